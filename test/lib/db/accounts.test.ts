import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openStateDb } from '../../../lib/db/database.js'
import type { StateDb } from '../../../lib/db/database.js'
import { AccountNotFoundError, HostNotFoundError, isAccountActive, publicAccountStatus } from '../../../lib/db/accounts.js'
import { setLogSink } from '../../../lib/logger.js'

setLogSink(() => {})
const dir = mkdtempSync(join(tmpdir(), 'ringlay-accounts-'))
after(() => rmSync(dir, { recursive: true, force: true }))

let n = 0
function fresh(opts: { accountCacheSize?: number; now?: () => number } = {}): StateDb {
  return openStateDb({ dataDir: join(dir, `db${n++}`), ...opts })
}

// A distinct valid did:plc per number (base32 digits in the did:plc alphabet).
function did(i: number): string {
  const b32 = [...i.toString(32).padStart(4, '0')].map((c) => 'abcdefghijklmnopqrstuvwxyz234567'[parseInt(c, 32)]).join('')
  return `did:plc:${'a'.repeat(20)}${b32}`
}

function host(state: StateDb, hostname: string, accountLimit = 100) {
  return state.hosts.ensure({ hostname, noTls: false, trusted: false, accountLimit }).host
}

// Reads the row straight from SQLite, bypassing the cache.
function row(state: StateDb, d: string): Record<string, unknown> | undefined {
  return state.sqlite.prepare('SELECT * FROM accounts WHERE did = ?').get(d) as Record<string, unknown> | undefined
}

const repo1 = { rev: '3laaaaaaaaaa2', commitCid: 'bafycommit1', dataCid: 'bafydata1' }
const repo2 = { rev: '3laaaaaaaaab2', commitCid: 'bafycommit2', dataCid: 'bafydata2' }

test('create binds a DID to a host, counts it, and is idempotent', () => {
  const state = fresh()
  const h = host(state, 'pds.example.com')
  const a = state.accounts.create(did(1), h.id)
  assert.equal(a.status, 'active')
  assert.equal(a.upstreamStatus, 'active')
  assert.ok(isAccountActive(a))
  assert.equal(publicAccountStatus(a), undefined)
  assert.equal(state.accounts.create(did(1), h.id), a)
  assert.equal(state.hosts.get(h.id)?.accountCount, 1)
  assert.throws(() => state.accounts.create(did(2), 9999), HostNotFoundError)
  assert.equal(row(state, did(2)), undefined)
  state.close()
})

test('accounts beyond the host limit are host-throttled; raising the limit releases the oldest', () => {
  const state = fresh()
  const h = host(state, 'small.example.com', 2)
  const made = [1, 2, 3, 4].map((i) => state.accounts.create(did(i), h.id))
  assert.deepEqual(made.map((a) => a.status), ['active', 'active', 'host-throttled', 'host-throttled'])
  assert.equal(publicAccountStatus(made[2]!), 'throttled')
  assert.ok(!isAccountActive(made[2]!))
  assert.equal(state.hosts.get(h.id)?.accountCount, 4)
  const released = state.accounts.setHostAccountLimit(h.id, 3)
  assert.deepEqual(released.map((a) => a.did), [did(3)])
  assert.equal(state.accounts.get(did(3))?.status, 'active')
  assert.equal(row(state, did(3))?.status, 'active')
  assert.deepEqual(state.accounts.setHostAccountLimit(h.id, 3), [])
  assert.equal(state.hosts.get(h.id)?.accountLimit, 3)
  state.close()
})

test('host counts follow moves, upstream deletion, undeletion and removal', () => {
  const state = fresh()
  const a = host(state, 'old.example.com')
  const b = host(state, 'new.example.com')
  for (const i of [1, 2, 3]) state.accounts.create(did(i), a.id)
  const counts = () => [state.hosts.get(a.id)?.accountCount, state.hosts.get(b.id)?.accountCount]
  assert.deepEqual(counts(), [3, 0])

  state.accounts.moveToHost(did(1), b.id)
  assert.deepEqual(counts(), [2, 1])
  assert.equal(state.accounts.get(did(1))?.hostId, b.id)
  assert.equal(row(state, did(1))?.host_id, b.id)

  state.accounts.setUpstreamStatus(did(2), 'deleted')
  assert.deepEqual(counts(), [1, 1])
  state.accounts.setUpstreamStatus(did(2), 'deleted')
  assert.deepEqual(counts(), [1, 1])
  // A deleted account moving does not count anywhere.
  state.accounts.moveToHost(did(2), b.id)
  assert.deepEqual(counts(), [1, 1])
  state.accounts.setUpstreamStatus(did(2), 'active')
  assert.deepEqual(counts(), [1, 2])

  assert.ok(state.accounts.remove(did(3)))
  assert.ok(!state.accounts.remove(did(3)))
  assert.deepEqual(counts(), [0, 2])
  assert.equal(state.accounts.get(did(3)), undefined)

  // recount agrees with the bookkeeping, and repairs drift.
  state.sqlite.prepare('UPDATE hosts SET account_count = 77').run()
  state.hosts.recountAccounts()
  assert.deepEqual(counts(), [0, 2])
  state.close()
})

test('moving into a full host throttles; moving a throttled account to a host with room releases it', () => {
  const state = fresh()
  const full = host(state, 'full.example.com', 1)
  const roomy = host(state, 'roomy.example.com', 10)
  state.accounts.create(did(1), full.id)
  const t = state.accounts.create(did(2), full.id)
  assert.equal(t.status, 'host-throttled')
  assert.equal(state.accounts.moveToHost(did(2), roomy.id).status, 'active')
  state.accounts.create(did(3), roomy.id)
  assert.equal(state.accounts.moveToHost(did(3), full.id).status, 'host-throttled')
  // Local decisions are not overridden by a move.
  state.accounts.setLocalStatus(did(3), 'takendown')
  assert.equal(state.accounts.moveToHost(did(3), roomy.id).status, 'takendown')
  state.close()
})

test('repo state: chain breaks count and desynchronize, a consistent commit or a #sync clears', () => {
  let clock = 1000
  const state = fresh({ now: () => clock })
  const h = host(state, 'pds.example.com')
  state.accounts.create(did(1), h.id)
  let a = state.accounts.recordCommit(did(1), repo1, false)
  assert.deepEqual([a.rev, a.commitCid, a.dataCid, a.chainBreaks, a.desynchronizedSince], [repo1.rev, 'bafycommit1', 'bafydata1', 0, null])
  clock = 2000
  a = state.accounts.recordCommit(did(1), repo2, true)
  assert.deepEqual([a.chainBreaks, a.desynchronizedSince], [1, 2000])
  clock = 3000
  a = state.accounts.recordCommit(did(1), repo1, true)
  assert.deepEqual([a.chainBreaks, a.desynchronizedSince], [2, 2000])
  a = state.accounts.recordCommit(did(1), repo2, false)
  assert.deepEqual([a.chainBreaks, a.desynchronizedSince], [2, null])
  state.accounts.recordCommit(did(1), repo1, true)
  a = state.accounts.recordSync(did(1), repo2)
  assert.deepEqual([a.rev, a.chainBreaks, a.desynchronizedSince], [repo2.rev, 3, null])
  assert.deepEqual([row(state, did(1))?.rev, row(state, did(1))?.chain_breaks, row(state, did(1))?.desynchronized_since], [repo2.rev, 3, null])
  assert.throws(() => state.accounts.recordCommit(did(9), repo1, false), AccountNotFoundError)
  state.close()
})

test('the cache serves hits without SQLite, stays bounded, and agrees with the database', () => {
  const state = fresh({ accountCacheSize: 3 })
  const h = host(state, 'pds.example.com')
  for (const i of [1, 2, 3, 4, 5]) state.accounts.create(did(i), h.id)
  state.accounts.recordCommit(did(5), repo1, false)
  const before = state.stats().accountCache
  assert.equal(before.size, 3)
  const a = state.accounts.get(did(5))
  assert.equal(state.accounts.get(did(5)), a)
  const mid = state.stats().accountCache
  assert.equal(mid.hits - before.hits, 2)
  assert.equal(mid.misses, before.misses)
  // Evicted entries reload from SQLite with every write intact.
  const first = state.accounts.get(did(1))
  assert.equal(state.stats().accountCache.misses, mid.misses + 1)
  assert.equal(first?.did, did(1))
  for (const i of [1, 2, 3, 4, 5]) {
    const cached = state.accounts.get(did(i))
    state.accounts.clearCache()
    assert.deepEqual(state.accounts.get(did(i)), cached)
  }
  state.close()
})

test('a rolled-back transaction leaves neither the database nor the cache changed', () => {
  const state = fresh()
  const h = host(state, 'pds.example.com')
  const other = host(state, 'other.example.com')
  state.accounts.create(did(1), h.id)
  state.accounts.recordCommit(did(1), repo1, false)
  assert.throws(() =>
    state.transaction(() => {
      state.accounts.recordCommit(did(1), repo2, true)
      state.accounts.create(did(2), h.id)
      state.accounts.moveToHost(did(1), other.id)
      assert.equal(state.accounts.get(did(1))?.rev, repo2.rev)
      throw new Error('policy bug')
    }),
  )
  const a = state.accounts.get(did(1))
  assert.deepEqual([a?.rev, a?.chainBreaks, a?.hostId], [repo1.rev, 0, h.id])
  assert.equal(state.accounts.get(did(2)), undefined)
  assert.equal(state.hosts.get(h.id)?.accountCount, 1)
  assert.equal(state.hosts.get(other.id)?.accountCount, 0)

  // A nested failure caught inside the outer transaction: the outer writes still commit.
  state.transaction(() => {
    state.accounts.recordCommit(did(1), repo2, false)
    try {
      state.transaction(() => {
        state.accounts.setLocalStatus(did(1), 'takendown')
        throw new Error('inner')
      })
    } catch {}
  })
  const b = state.accounts.get(did(1))
  assert.deepEqual([b?.rev, b?.status], [repo2.rev, 'active'])
  state.accounts.clearCache()
  assert.deepEqual(state.accounts.get(did(1)), b)
  state.close()
})

test('listing pages by id; activeOnly and per-host filters', () => {
  const state = fresh()
  const a = host(state, 'a.example.com', 2)
  const b = host(state, 'b.example.com')
  for (const i of [1, 2, 3]) state.accounts.create(did(i), a.id)
  state.accounts.create(did(4), b.id)
  state.accounts.setUpstreamStatus(did(4), 'deactivated')
  const page1 = state.accounts.list({ limit: 2 })
  const page2 = state.accounts.list({ limit: 2, afterId: page1[1]!.id })
  assert.deepEqual([...page1, ...page2].map((x) => x.did), [did(1), did(2), did(3), did(4)])
  assert.deepEqual(state.accounts.list({ limit: 10, activeOnly: true }).map((x) => x.did), [did(1), did(2)])
  assert.deepEqual(state.accounts.list({ limit: 10, hostId: b.id }).map((x) => x.did), [did(4)])
  state.close()
})
