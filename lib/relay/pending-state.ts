// Account state changes wait for the event log. An accepted #commit/#sync/#account changes the
// account (rev, data CID, upstream status) at decision time for the decisions that follow, but
// reaches SQLite only when the pipeline reports the event written. Otherwise a crash between
// the decision and the log write would leave SQLite saying "rev R seen" for an event that is
// in no log: the upstream replays it after the restart and the stale-rev check drops it,
// losing it for good. Written in the log (page cache, which survives a process crash) is the
// line: state for exactly the events the log has, and a replay of those is dropped as stale.
//
// Reads see the store's account with the newest pending change on top (the changed fields
// only, so an admin's local-status change shows at once). Creation and host moves are not
// deferred: they are idempotent and harmless if the event that caused them is lost.
import type { Account, RepoState } from '../db/accounts.js'
import type { StateDb, StateUpdate } from '../db/database.js'
import { setAppliedSeq } from './recovery.js'

type Patch = Pick<Account, 'rev' | 'commitCid' | 'dataCid' | 'chainBreaks' | 'desynchronizedSince' | 'upstreamStatus'>

interface Pending {
  id: number
  patch: Patch
  update: StateUpdate
}

export class PendingState {
  // Per DID, in decision order.
  private readonly byDid = new Map<string, Pending[]>()
  private readonly didOf = new Map<number, string>()

  constructor(
    private readonly state: StateDb,
    private readonly now: () => number,
  ) {}

  get(did: string): Account | undefined {
    const a = this.state.accounts.get(did)
    if (a === undefined) return undefined
    const list = this.byDid.get(did)
    return list === undefined ? a : { ...a, ...(list[list.length - 1] as Pending).patch }
  }

  create(did: string, hostId: number): Account {
    return this.state.accounts.create(did, hostId)
  }

  moveToHost(did: string, hostId: number): Account {
    this.state.accounts.moveToHost(did, hostId)
    return this.get(did) as Account
  }

  // Like AccountStore.recordCommit: a chain break counts and marks desynchronized; a
  // consistent commit clears it.
  commit(id: number, a: Account, repo: RepoState, chainBreak: boolean): void {
    const desync = chainBreak ? (a.desynchronizedSince ?? this.now()) : null
    this.add(id, a, { ...repo, chainBreaks: a.chainBreaks + (chainBreak ? 1 : 0), desynchronizedSince: desync }, { kind: 'commit', did: a.did, repo, chainBreak })
  }

  sync(id: number, a: Account, repo: RepoState): void {
    this.add(id, a, { ...repo, desynchronizedSince: null }, { kind: 'sync', did: a.did, repo })
  }

  upstreamStatus(id: number, a: Account, status: string): Account {
    this.add(id, a, { upstreamStatus: status }, { kind: 'upstream-status', did: a.did, status })
    return this.get(a.did) as Account
  }

  // These events are in the log: their changes go to SQLite in one transaction, with the
  // highest relay seq they cover (startup recovery replays the log after it).
  written(ids: readonly number[], seqs: readonly number[]): void {
    const updates: StateUpdate[] = []
    for (const id of ids) {
      const p = this.take(id)
      if (p !== undefined) updates.push(p.update)
    }
    let top = 0
    for (const q of seqs) if (q > top) top = q
    if (updates.length === 0 && top === 0) return
    this.state.transaction(() => {
      if (updates.length > 0) this.state.applyBatch(updates)
      if (top > 0) setAppliedSeq(this.state, top)
    })
  }

  // The event will not be written after all (its decision became a drop).
  discard(id: number): void {
    this.take(id)
  }

  get size(): number {
    return this.didOf.size
  }

  private add(id: number, a: Account, change: Partial<Patch>, update: StateUpdate): void {
    const base: Patch = { rev: a.rev, commitCid: a.commitCid, dataCid: a.dataCid, chainBreaks: a.chainBreaks, desynchronizedSince: a.desynchronizedSince, upstreamStatus: a.upstreamStatus }
    const list = this.byDid.get(a.did) ?? []
    list.push({ id, patch: { ...base, ...change }, update })
    this.byDid.set(a.did, list)
    this.didOf.set(id, a.did)
  }

  private take(id: number): Pending | undefined {
    const did = this.didOf.get(id)
    if (did === undefined) return undefined
    this.didOf.delete(id)
    const list = this.byDid.get(did) as Pending[]
    const i = list.findIndex((p) => p.id === id)
    const [p] = list.splice(i, 1)
    if (list.length === 0) this.byDid.delete(did)
    return p
  }
}
