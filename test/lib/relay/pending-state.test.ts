// PendingState with real SQLite: written account changes wait up to flushMs and are stored
// together, one row update per account with the same result as storing each event; reads see
// them at once; an #account status change and the account cap store at once.
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Account, RepoState } from '../../../lib/db/accounts.js'
import { openStateDb } from '../../../lib/db/database.js'
import type { StateDb } from '../../../lib/db/database.js'
import { setLogSink } from '../../../lib/logger.js'
import { PendingState } from '../../../lib/relay/pending-state.js'
import { appliedSeq } from '../../../lib/relay/recovery.js'

setLogSink(() => {})
const dir = mkdtempSync(join(tmpdir(), 'ringlay-pending-'))
const open: StateDb[] = []
after(() => {
  for (const s of open) s.close()
  rmSync(dir, { recursive: true, force: true })
})

let n = 0
function fresh(): { state: StateDb; hostId: number } {
  const state = openStateDb({ dataDir: join(dir, `db${n++}`) })
  open.push(state)
  const hostId = state.hosts.ensure({ hostname: 'pds.example.com', noTls: false, trusted: false, accountLimit: 100 }).host.id
  return { state, hostId }
}

const did = (i: number): string => `did:plc:${'a'.repeat(22)}${'abcdefgh'[i]}${'a'}`
const repo = (i: number): RepoState => ({ rev: `3l${String(i).padStart(11, 'b')}`, commitCid: `bafyc${i}`, dataCid: `bafyd${i}` })
type Step = ['commit', number, boolean] | ['sync', number]
// One account's accepted events, decided one after another (each on top of the last).
function decide(p: PendingState, d: string, steps: Step[], firstId: number): number[] {
  const ids: number[] = []
  steps.forEach((s, i) => {
    const id = firstId + i
    const a = p.get(d) as Account
    if (s[0] === 'commit') p.commit(id, a, repo(s[1]), s[2])
    else p.sync(id, a, repo(s[1]))
    ids.push(id)
  })
  return ids
}
const row = (s: StateDb, d: string) => {
  const a = s.accounts.get(d) as Account
  return { rev: a.rev, commitCid: a.commitCid, dataCid: a.dataCid, chainBreaks: a.chainBreaks, desynchronized: a.desynchronizedSince !== null }
}

test('deferred: reads see written changes at once, SQLite and the applied seq only after the flush, with the per-event result', () => {
  const steps: Step[][] = [
    [['commit', 1, false], ['commit', 2, true], ['commit', 3, true]], // two breaks: desynchronized
    [['commit', 1, true], ['commit', 2, false]], // a break, then consistent: cleared
    [['commit', 1, true], ['sync', 2]], // a #sync clears
    [['sync', 1], ['commit', 2, false]],
  ]
  const deferred = fresh()
  const eager = fresh()
  const p = new PendingState(deferred.state, Date.now, { flushMs: 60_000 })
  const q = new PendingState(eager.state, Date.now, { flushMs: 0 })
  let id = 1
  let seq = 100
  steps.forEach((s, i) => {
    for (const x of [deferred, eager]) x.state.accounts.create(did(i), x.hostId)
    const a = decide(p, did(i), s, id)
    decide(q, did(i), s, id)
    const seqs = a.map(() => ++seq)
    p.written(a, seqs)
    // The reference stores each event on its own (recordCommit/recordSync, one at a time).
    a.forEach((x, k) => q.written([x], [seqs[k] as number]))
    id += s.length
  })
  for (let i = 0; i < steps.length; i++) {
    assert.equal(deferred.state.accounts.get(did(i))?.rev, null, 'nothing in SQLite before the flush')
    assert.equal(p.get(did(i))?.rev, eager.state.accounts.get(did(i))?.rev, 'reads see the written change')
  }
  assert.equal(appliedSeq(deferred.state), undefined)
  p.flush()
  for (let i = 0; i < steps.length; i++) assert.deepEqual(row(deferred.state, did(i)), row(eager.state, did(i)), `account ${i}`)
  assert.deepEqual(steps.map((_, i) => row(deferred.state, did(i)).desynchronized), [true, false, false, false])
  assert.equal(row(deferred.state, did(0)).chainBreaks, 2)
  assert.equal(appliedSeq(deferred.state), seq)
  assert.equal(appliedSeq(eager.state), seq)
})

test('an #account status change stores everything waiting at once', () => {
  const { state, hostId } = fresh()
  const p = new PendingState(state, Date.now, { flushMs: 60_000 })
  state.accounts.create(did(0), hostId)
  state.accounts.create(did(1), hostId)
  p.written(decide(p, did(0), [['commit', 1, false]], 1), [10])
  assert.equal(state.accounts.get(did(0))?.rev, null)
  p.upstreamStatus(2, state.accounts.get(did(1)) as Account, 'deactivated')
  p.written([2], [11])
  assert.equal(state.accounts.get(did(1))?.upstreamStatus, 'deactivated')
  assert.equal(state.accounts.get(did(0))?.rev, repo(1).rev, 'the waiting commit went with it')
  assert.equal(appliedSeq(state), 11)
})

test('the timer and the account cap store without an explicit flush', async () => {
  const { state, hostId } = fresh()
  const timed = new PendingState(state, Date.now, { flushMs: 20 })
  state.accounts.create(did(0), hostId)
  timed.written(decide(timed, did(0), [['commit', 1, false]], 1), [5])
  assert.equal(state.accounts.get(did(0))?.rev, null)
  await new Promise((r) => setTimeout(r, 100))
  assert.equal(state.accounts.get(did(0))?.rev, repo(1).rev)
  assert.equal(appliedSeq(state), 5)

  const capped = new PendingState(state, Date.now, { flushMs: 60_000, maxUnflushedAccounts: 2 })
  state.accounts.create(did(1), hostId)
  state.accounts.create(did(2), hostId)
  capped.written(decide(capped, did(1), [['commit', 1, false]], 10), [6])
  assert.equal(state.accounts.get(did(1))?.rev, null)
  capped.written(decide(capped, did(2), [['commit', 1, false]], 11), [7])
  assert.equal(state.accounts.get(did(1))?.rev, repo(1).rev, 'two accounts waiting: stored')
  assert.equal(appliedSeq(state), 7)
})
