// Account state changes wait for the event log. An accepted #commit/#sync/#account changes the
// account (rev, data CID, upstream status) at decision time for the decisions that follow, but
// reaches SQLite only when the pipeline reports the event written. Otherwise a crash between
// the decision and the log write would leave SQLite saying "rev R seen" for an event that is
// in no log: the upstream replays it after the restart and the stale-rev check drops it,
// losing it for good. Written in the log (page cache, which survives a process crash) is the
// line: state for exactly the events the log has, and a replay of those is dropped as stale.
//
// Written changes may wait a little longer (`flushMs`, 250 ms in the relay) and go to SQLite
// together: one row update per account however many of its commits were written meanwhile
// (at 27k commits/s over 1,000 accounts, per-event updates cost ~12 % of the relay's
// throughput in bench/relay.ts). That is safe for #commit/#sync: startup recovery re-applies
// their state from the log after state_applied_seq (lib/relay/recovery.ts), and
// state_applied_seq moves only with the flush. An #account status cannot be recovered from the
// log (the relay re-emits it with the combined status), so a batch carrying one flushes at once.
//
// Reads see the store's account with the newest pending change on top (the changed fields
// only, so an admin's local-status change shows at once). Creation and host moves are not
// deferred: they are idempotent and harmless if the event that caused them is lost.
import type { Account, RepoChange, RepoState } from '../db/accounts.js'
import type { StateDb, StateUpdate } from '../db/database.js'
import { logger } from '../logger.js'
import { setAppliedSeq } from './recovery.js'

type Patch = Pick<Account, 'rev' | 'commitCid' | 'dataCid' | 'chainBreaks' | 'desynchronizedSince' | 'upstreamStatus'>

interface Pending {
  id: number
  patch: Patch
  update: StateUpdate
}

// Written, not yet in SQLite: the newest patch (for reads) and the changes in write order.
interface Unflushed {
  patch: Patch
  repo: RepoChange[]
  other: StateUpdate[]
}

export interface PendingStateOptions {
  // How long written changes may wait to be stored together; 0 stores each batch at once.
  flushMs: number
  // Accounts with waiting changes that force a store before the timer.
  maxUnflushedAccounts: number
}

export class PendingState {
  // Per DID, in decision order.
  private readonly byDid = new Map<string, Pending[]>()
  private readonly didOf = new Map<number, string>()
  private readonly unflushed = new Map<string, Unflushed>()
  private unflushedTop = 0
  private timer: NodeJS.Timeout | undefined
  private readonly o: PendingStateOptions

  constructor(
    private readonly state: StateDb,
    private readonly now: () => number,
    opts: Partial<PendingStateOptions> = {},
  ) {
    this.o = { flushMs: 0, maxUnflushedAccounts: 20_000, ...opts }
  }

  get(did: string): Account | undefined {
    const a = this.state.accounts.get(did)
    if (a === undefined) return undefined
    const list = this.byDid.get(did)
    if (list !== undefined) return { ...a, ...(list[list.length - 1] as Pending).patch }
    const u = this.unflushed.get(did)
    return u === undefined ? a : { ...a, ...u.patch }
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

  // These events are in the log: their changes go to SQLite, together with the highest relay
  // seq they cover (startup recovery replays the log after it): at once, or within flushMs.
  written(ids: readonly number[], seqs: readonly number[]): void {
    let urgent = false
    for (const id of ids) {
      const p = this.take(id)
      if (p === undefined) continue
      const did = didOfUpdate(p.update)
      let u = this.unflushed.get(did)
      if (u === undefined) {
        u = { patch: p.patch, repo: [], other: [] }
        this.unflushed.set(did, u)
      }
      u.patch = p.patch
      const up = p.update
      if (up.kind === 'commit') u.repo.push({ kind: 'commit', repo: up.repo, chainBreak: up.chainBreak })
      else if (up.kind === 'sync') u.repo.push({ kind: 'sync', repo: up.repo })
      else {
        u.other.push(up)
        urgent = true
      }
    }
    for (const q of seqs) if (q > this.unflushedTop) this.unflushedTop = q
    if (urgent || this.o.flushMs <= 0 || this.unflushed.size >= this.o.maxUnflushedAccounts) {
      this.flush()
    } else if (this.timer === undefined && (this.unflushed.size > 0 || this.unflushedTop > 0)) {
      this.timer = setTimeout(() => this.flushLogged(), this.o.flushMs)
      this.timer.unref?.()
    }
  }

  // Stores every written change now (the relay calls it on close).
  flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    const top = this.unflushedTop
    if (this.unflushed.size === 0 && top === 0) return
    const updates: StateUpdate[] = []
    for (const [did, u] of this.unflushed) {
      if (u.repo.length === 1) {
        const c = u.repo[0] as RepoChange
        updates.push(c.kind === 'commit' ? { kind: 'commit', did, repo: c.repo, chainBreak: c.chainBreak } : { kind: 'sync', did, repo: c.repo })
      } else if (u.repo.length > 1) {
        updates.push({ kind: 'repo-changes', did, changes: u.repo })
      }
      updates.push(...u.other)
    }
    this.state.transaction(() => {
      if (updates.length > 0) this.state.applyBatch(updates)
      if (top > 0) setAppliedSeq(this.state, top)
    })
    this.unflushed.clear()
    this.unflushedTop = 0
  }

  private flushLogged(): void {
    this.timer = undefined
    try {
      this.flush()
    } catch (err) {
      // The changes stay waiting (and in the log): the next flush, or recovery, stores them.
      logger.error('policy', 'could not store account state for written events', { accounts: this.unflushed.size, err: String((err as Error)?.stack ?? err) })
    }
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

function didOfUpdate(u: StateUpdate): string {
  return 'did' in u ? u.did : ''
}
