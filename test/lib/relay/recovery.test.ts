// Startup recovery (lib/relay/recovery.ts) with a real event log and real SQLite: account state
// catches up with frames written after state_applied_seq (a kill -9 between the log write and
// the state write), so the upstream's replay of them is stale instead of logged twice.
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openStateDb } from '../../../lib/db/database.js'
import { EventLog } from '../../../lib/log/event-log.js'
import { setLogSink } from '../../../lib/logger.js'
import { appliedSeq, recoverAccountState, setAppliedSeq } from '../../../lib/relay/recovery.js'
import { encodeFrame } from '../../helpers/atproto-json.js'
import { FakeAccount } from '../../helpers/fake-pds.js'

setLogSink(() => {})
const root = mkdtempSync(join(tmpdir(), 'ringlay-recovery-'))
after(() => rmSync(root, { recursive: true, force: true }))
let n = 0

test('frames written after state_applied_seq are applied to their accounts at startup; nothing twice', async () => {
  const dataDir = join(root, `d${n++}`)
  const state = openStateDb({ dataDir })
  const host = state.hosts.ensure({ hostname: 'pds.example.com', noTls: false, trusted: false, accountLimit: 10 }).host
  const a = await FakeAccount.create()
  const stranger = await FakeAccount.create()
  const bodies = [await a.nextCommit(), await a.nextCommit(), await stranger.nextCommit(), await a.nextCommit(), await a.nextCommit()]
  const log = EventLog.open({ dataDir })
  const frames = bodies.map((b, i) => encodeFrame({ op: 1, t: '#commit' }, { ...b, seq: i + 1 }))
  assert.ok(log.append(frames, bodies.map((b) => b.repo as string)).ok)
  log.close()
  // SQLite has the account and the state of seq 1 only: the process died after writing 2..5.
  state.accounts.create(a.did, host.id)
  state.accounts.recordCommit(a.did, { rev: bodies[0]!.rev as string, commitCid: String(bodies[0]!.commit), dataCid: 'x' }, false)
  state.transaction(() => setAppliedSeq(state, 1))

  const r = recoverAccountState(state, { dataDir })
  assert.deepEqual(r, { frames: 4, applied: 3, appliedSeq: 5 }, 'seqs 2, 4, 5 (the stranger has no account)')
  const acct = state.accounts.get(a.did)
  assert.equal(acct?.rev, bodies[4]!.rev)
  assert.equal(acct?.commitCid, String(bodies[4]!.commit))
  assert.equal(acct?.desynchronizedSince, null)
  assert.equal(state.accounts.get(stranger.did), undefined)
  assert.equal(appliedSeq(state), 5)
  // Again: nothing left to do.
  assert.deepEqual(recoverAccountState(state, { dataDir }), { frames: 0, applied: 0, appliedSeq: 5 })
  state.close()
})

test('a state DB that never recorded an applied seq starts from the log head without replaying', async () => {
  const dataDir = join(root, `d${n++}`)
  const a = await FakeAccount.create()
  const body = await a.nextCommit()
  const log = EventLog.open({ dataDir })
  assert.ok(log.append([encodeFrame({ op: 1, t: '#commit' }, { ...body, seq: 1 })], [a.did]).ok)
  log.close()
  const state = openStateDb({ dataDir })
  state.accounts.create(a.did, state.hosts.ensure({ hostname: 'pds.example.com', noTls: false, trusted: false, accountLimit: 10 }).host.id)
  assert.equal(appliedSeq(state), undefined)
  assert.deepEqual(recoverAccountState(state, { dataDir }), { frames: 0, applied: 0, appliedSeq: 1 })
  assert.equal(state.accounts.get(a.did)?.rev, null)
  state.close()
})
