// The relay's SQLite state: one better-sqlite3 connection on the JS main thread (SQLite never
// runs on the ring or verify threads), the schema brought up to date at open, statements
// prepared once by each store, and `applyBatch` to commit a whole policy batch of state
// changes in a single transaction.
//
// Pragmas, and why:
// - journal_mode=WAL: a commit appends to the log instead of rewriting pages through a
//   rollback journal, and readers (a backup, the sqlite3 shell) never block the relay.
// - synchronous=NORMAL: in WAL mode this fsyncs at checkpoints, not on every commit. A process
//   crash loses nothing; an OS crash or power cut can lose the last few commits but never
//   corrupts the file. That loss is harmless here: cursors and account revs roll back
//   together (one database), so the hosts replay from the older cursor and the events
//   re-arrive. FULL would put an fsync in every batch.
// - busy_timeout=5000: only this process writes, but an operator's shell or a backup can hold
//   a lock for a moment; wait for it rather than fail a batch with SQLITE_BUSY.
// - foreign_keys=ON: an account cannot point at a host that does not exist.
// - cache_size=-65536: 64 MiB of page cache, so the accounts index stays in memory.
import Database from 'better-sqlite3'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { AccountNotFoundError, AccountStore } from './accounts.js'
import type { AccountCacheStats, LocalAccountStatus, RepoChange, RepoState } from './accounts.js'
import { DomainBanStore } from './domain-bans.js'
import { HostStore } from './hosts.js'
import { IdentityStore } from './identities.js'
import { migrate } from './migrations.js'

export interface OpenStateOptions {
  // `<dataDir>/relay.sqlite`, created if missing; or give `path` (':memory:' works).
  dataDir?: string
  path?: string
  accountCacheSize?: number
  now?: () => number
}

// One change to relay state, as the policy layer produces them for a batch of events.
export type StateUpdate =
  | { kind: 'commit'; did: string; repo: RepoState; chainBreak: boolean }
  | { kind: 'sync'; did: string; repo: RepoState }
  // Several of the two above for one account, written as one row update.
  | { kind: 'repo-changes'; did: string; changes: RepoChange[] }
  | { kind: 'upstream-status'; did: string; status: string; checked?: boolean }
  | { kind: 'local-status'; did: string; status: LocalAccountStatus }
  | { kind: 'move-host'; did: string; hostId: number }
  | { kind: 'host-cursor'; hostId: number; seq: number }

export interface BatchResult {
  applied: number
  // Updates naming a DID with no account row (the batch still commits the rest).
  missingDids: string[]
}

export interface StateStats {
  accountCache: AccountCacheStats
  batches: number
  batchUpdates: number
  batchSeconds: number
}

export const defaultAccountCacheSize = 1_000_000

export class StateDb {
  readonly sqlite: Database.Database
  readonly hosts: HostStore
  readonly accounts: AccountStore
  readonly identities: IdentityStore
  readonly domainBans: DomainBanStore
  private batches = 0
  private batchUpdates = 0
  private batchSeconds = 0

  constructor(sqlite: Database.Database, opts: Pick<OpenStateOptions, 'accountCacheSize' | 'now'> = {}) {
    const now = opts.now ?? Date.now
    this.sqlite = sqlite
    this.hosts = new HostStore(sqlite, now)
    this.accounts = new AccountStore(sqlite, this.hosts, now, opts.accountCacheSize ?? defaultAccountCacheSize)
    this.identities = new IdentityStore(sqlite)
    this.domainBans = new DomainBanStore(sqlite, now)
  }

  // Several writes as one atomic unit (nested calls become savepoints); keeps the account
  // cache coherent if `fn` throws.
  transaction<T>(fn: () => T): T {
    return this.accounts.transaction(fn)
  }

  // Applies the updates in order, in one transaction: one commit (and one WAL append) for
  // the whole batch instead of one per event.
  applyBatch(updates: readonly StateUpdate[]): BatchResult {
    const started = process.hrtime.bigint()
    const missingDids: string[] = []
    let applied = 0
    this.transaction(() => {
      for (const u of updates) {
        try {
          this.applyOne(u)
          applied++
        } catch (err) {
          if (!(err instanceof AccountNotFoundError) || u.kind === 'host-cursor') throw err
          missingDids.push(u.did)
        }
      }
    })
    this.batches++
    this.batchUpdates += applied
    this.batchSeconds += Number(process.hrtime.bigint() - started) / 1e9
    return { applied, missingDids }
  }

  stats(): StateStats {
    return { accountCache: this.accounts.stats(), batches: this.batches, batchUpdates: this.batchUpdates, batchSeconds: this.batchSeconds }
  }

  close(): void {
    this.sqlite.close()
  }

  private applyOne(u: StateUpdate): void {
    switch (u.kind) {
      case 'commit':
        this.accounts.recordCommit(u.did, u.repo, u.chainBreak)
        return
      case 'sync':
        this.accounts.recordSync(u.did, u.repo)
        return
      case 'repo-changes':
        this.accounts.recordRepoChanges(u.did, u.changes)
        return
      case 'upstream-status':
        this.accounts.setUpstreamStatus(u.did, u.status, u.checked ?? false)
        return
      case 'local-status':
        this.accounts.setLocalStatus(u.did, u.status)
        return
      case 'move-host':
        this.accounts.moveToHost(u.did, u.hostId)
        return
      case 'host-cursor':
        this.hosts.recordCursor(u.hostId, u.seq)
        return
    }
  }
}

export function openStateDb(opts: OpenStateOptions): StateDb {
  let path = opts.path
  if (path === undefined) {
    if (opts.dataDir === undefined) throw new TypeError('openStateDb needs dataDir or path')
    mkdirSync(opts.dataDir, { recursive: true })
    path = join(opts.dataDir, 'relay.sqlite')
  }
  const sqlite = new Database(path)
  try {
    sqlite.pragma('journal_mode = WAL')
    sqlite.pragma('synchronous = NORMAL')
    sqlite.pragma('busy_timeout = 5000')
    sqlite.pragma('foreign_keys = ON')
    sqlite.pragma('cache_size = -65536')
    migrate(sqlite)
    return new StateDb(sqlite, opts)
  } catch (err) {
    sqlite.close()
    throw err
  }
}
