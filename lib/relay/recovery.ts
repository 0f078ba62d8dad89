// Account state catches up with the event log at startup. Account changes reach SQLite when the
// pipeline reports their events written (lib/relay/pending-state.ts), together with
// `state_applied_seq`, the highest relay seq they cover. Frames are published to consumers
// before that report reaches JS, so a kill -9 can leave written events whose rev SQLite never
// stored: after the restart the upstream replays them (the cursor is older), and without this
// the stale-rev check would let them into the log a second time. So, before the pipeline opens
// the log, the frames after state_applied_seq are read back and their #commit/#sync state
// applied: the log is the source of truth, SQLite follows it.
//
// Only accounts that exist are updated (they were created when their events were decided);
// a rev never goes backwards. An OS crash can lose log frames SQLite already counted; then
// applied_seq is past the log's end and there is nothing to replay.
import type { Statement } from 'better-sqlite3'
import { validateSync } from '../codec/validate.js'
import type { StateDb, StateUpdate } from '../db/database.js'
import { EventLog, EventLogError } from '../log/event-log.js'
import type { EventLogOptions } from '../log/event-log.js'
import { logger } from '../logger.js'

const key = 'state_applied_seq'

// Prepared once per database: setAppliedSeq runs with every batch of written events.
const statements = new WeakMap<StateDb, { get: Statement<[string], { value: number }>; set: Statement<[string, number]> }>()

function stmts(state: StateDb) {
  let s = statements.get(state)
  if (s === undefined) {
    s = {
      get: state.sqlite.prepare('SELECT value FROM relay_meta WHERE key = ?') as Statement<[string], { value: number }>,
      set: state.sqlite.prepare('INSERT INTO relay_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)') as Statement<[string, number]>,
    }
    statements.set(state, s)
  }
  return s
}

export function appliedSeq(state: StateDb): number | undefined {
  return stmts(state).get.get(key)?.value
}

// Call inside the transaction that applies the account changes of events up to `seq`.
export function setAppliedSeq(state: StateDb, seq: number): void {
  stmts(state).set.run(key, seq)
}

export interface RecoveryResult {
  // Log frames read back and account changes applied from them.
  frames: number
  applied: number
  appliedSeq: number
}

// Opens the log (it must not be open elsewhere yet), replays its tail into SQLite, closes it.
export function recoverAccountState(state: StateDb, logOptions: EventLogOptions): RecoveryResult {
  let log: EventLog
  try {
    log = EventLog.open(logOptions)
  } catch (err) {
    // A relay without its log cannot start: one line naming the cause (lib/server.ts serve).
    if (err instanceof EventLogError) throw Object.assign(err, { code: `log_${err.reason}` })
    throw err
  }
  try {
    const last = log.writtenSeq()
    const from = appliedSeq(state)
    // A state DB that never recorded it (first start): nothing to reconcile.
    if (from === undefined || from >= last) {
      state.transaction(() => setAppliedSeq(state, Math.max(last, from ?? 0)))
      return { frames: 0, applied: 0, appliedSeq: Math.max(last, from ?? 0) }
    }
    const result = replayTail(state, log, from)
    state.transaction(() => {
      state.applyBatch(result.updates)
      setAppliedSeq(state, last)
    })
    logger.info('recovery', 'account state caught up with the event log', { fromSeq: from, toSeq: last, frames: result.frames, applied: result.updates.length })
    return { frames: result.frames, applied: result.updates.length, appliedSeq: last }
  } finally {
    log.close()
  }
}

function replayTail(state: StateDb, log: EventLog, from: number): { frames: number; updates: StateUpdate[] } {
  const updates: StateUpdate[] = []
  // The newest rev per DID seen so far in this replay (updates apply in log order).
  const revs = new Map<string, string>()
  let frames = 0
  for (let after = from; ; ) {
    const r = log.read(after, 4 << 20)
    if (!r.ok || r.frames.length === 0) break
    frames += r.frames.length
    // Parse only: the frames were validated before they were written.
    const summaries = validateSync(
      r.frames.map((f) => f.bytes),
      { depth: 'commit', checkSignatures: false, lenient: true },
    )
    for (const s of summaries) {
      if ((s.type !== 'commit' && s.type !== 'sync') || s.did === undefined || s.rev === undefined || s.commit === undefined || s.data === undefined) continue
      const stored = revs.get(s.did) ?? state.accounts.get(s.did)?.rev ?? undefined
      if (state.accounts.get(s.did) === undefined || (stored !== undefined && stored !== null && s.rev <= stored)) continue
      const repo = { rev: s.rev, commitCid: s.commit, dataCid: s.data }
      updates.push(s.type === 'sync' ? { kind: 'sync', did: s.did, repo } : { kind: 'commit', did: s.did, repo, chainBreak: false })
      revs.set(s.did, s.rev)
    }
    after = r.position
    if (r.state === 'at_head') break
  }
  return { frames, updates }
}
