import { test } from 'node:test'
import assert from 'node:assert/strict'
import Database from 'better-sqlite3'
import type { StateUpdate } from '../../../lib/db/database.js'
import { HostNotFoundError } from '../../../lib/db/accounts.js'
import { setLogSink } from '../../../lib/logger.js'
import { tempStateDbs } from '../../helpers/state-db.js'

setLogSink(() => {})
const make = tempStateDbs('state')
const fresh = (now?: () => number) => make(now ? { now } : {})

const alice = 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa'
const bob = 'did:plc:bbbbbbbbbbbbbbbbbbbbbbbb'
const carol = 'did:plc:cccccccccccccccccccccccc'
const repo = (i: number) => ({ rev: `3lzzzzzzzzz${i}2`, commitCid: `bafycommit${i}`, dataCid: `bafydata${i}` })

test('applyBatch commits every update of a batch at once, in order', () => {
  const { state, path } = fresh()
  const h = state.hosts.ensure({ hostname: 'pds.example.com', noTls: false, trusted: false, accountLimit: 100 }).host
  const h2 = state.hosts.ensure({ hostname: 'pds2.example.com', noTls: false, trusted: false, accountLimit: 100 }).host
  state.accounts.create(alice, h.id)
  state.accounts.create(bob, h.id)
  const updates: StateUpdate[] = [
    { kind: 'commit', did: alice, repo: repo(2), chainBreak: false },
    { kind: 'commit', did: alice, repo: repo(3), chainBreak: true },
    { kind: 'sync', did: bob, repo: repo(4) },
    { kind: 'upstream-status', did: bob, status: 'deactivated' },
    { kind: 'local-status', did: alice, status: 'takendown' },
    { kind: 'move-host', did: alice, hostId: h2.id },
    { kind: 'commit', did: carol, repo: repo(5), chainBreak: false },
    { kind: 'host-cursor', hostId: h.id, seq: 1234 },
  ]
  assert.deepEqual(state.applyBatch(updates), { applied: 7, missingDids: [carol] })

  // A second connection sees the committed result (nothing left in an open transaction).
  const reader = new Database(path, { readonly: true })
  const row = (d: string) => reader.prepare('SELECT * FROM accounts WHERE did = ?').get(d) as Record<string, unknown>
  assert.deepEqual([row(alice).rev, row(alice).chain_breaks, row(alice).status, row(alice).host_id], [repo(3).rev, 1, 'takendown', h2.id])
  assert.deepEqual([row(bob).rev, row(bob).upstream_status], [repo(4).rev, 'deactivated'])
  assert.equal((reader.prepare('SELECT last_seq FROM hosts WHERE id = ?').get(h.id) as { last_seq: number }).last_seq, 1234)
  reader.close()
  assert.equal(state.stats().batches, 1)
  assert.equal(state.stats().batchUpdates, 7)
  state.close()
})

test('a batch that fails part-way leaves nothing behind, in SQLite or in the cache', () => {
  const { state } = fresh()
  const h = state.hosts.ensure({ hostname: 'pds.example.com', noTls: false, trusted: false, accountLimit: 100 }).host
  state.accounts.create(alice, h.id)
  state.applyBatch([{ kind: 'commit', did: alice, repo: repo(1), chainBreak: false }])
  assert.throws(
    () =>
      state.applyBatch([
        { kind: 'commit', did: alice, repo: repo(2), chainBreak: true },
        { kind: 'host-cursor', hostId: h.id, seq: 99 },
        { kind: 'move-host', did: alice, hostId: 4242 },
      ]),
    HostNotFoundError,
  )
  const a = state.accounts.get(alice)
  assert.deepEqual([a?.rev, a?.chainBreaks, a?.hostId], [repo(1).rev, 0, h.id])
  assert.equal(state.hosts.get(h.id)?.lastSeq, -1)
  state.close()
})
