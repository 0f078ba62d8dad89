// The accounts table behind a bounded write-through LRU keyed by DID: the policy layer reads
// an account for every event, so hits must not touch SQLite. Every write goes to SQLite
// first and replaces the cached object only after the statement succeeded; cached objects
// are never mutated, so a reader holding one keeps a consistent snapshot.
//
// Transactions and the cache: a write inside a transaction that later rolls back would leave
// the cache ahead of the database. So every cache insert made while a transaction is open is
// remembered, and a rollback at any level evicts those DIDs (evicting is always safe: the
// next read reloads from SQLite). Group writes with `transaction()`, never with the raw
// better-sqlite3 handle.
//
// Host account counts: account_count counts a host's accounts except those deleted upstream
// (indigo never decremented it, so spam floods kept hosts "full"; see indigo-relay.md §10).
// Every change of host, upstream status or existence adjusts it in the same transaction.
import type { Database, Statement } from 'better-sqlite3'
import { LruCache } from './lru.js'
import type { HostStore } from './hosts.js'

// Relay-local status. `host-throttled`: the host was at its account limit when the account
// appeared (shown publicly as `throttled`); `throttled`: the relay throttles this account.
export type LocalAccountStatus = 'active' | 'takendown' | 'suspended' | 'host-throttled' | 'throttled'

export interface Account {
  readonly id: number
  readonly did: string
  readonly hostId: number
  readonly status: LocalAccountStatus
  // As the PDS last reported it (#account or getRepoStatus): active, deactivated, deleted,
  // takendown, suspended, desynchronized, throttled, or another string a newer PDS sends.
  readonly upstreamStatus: string
  // When upstreamStatus was last confirmed with the PDS (getRepoStatus), to rate-limit re-checks.
  readonly upstreamCheckedAt: number | null
  readonly rev: string | null
  readonly commitCid: string | null
  readonly dataCid: string | null
  // Set by a chain break, cleared by a consistent #commit or a #sync.
  readonly desynchronizedSince: number | null
  readonly chainBreaks: number
  readonly createdAt: number
  readonly updatedAt: number
}

export interface RepoState {
  rev: string
  commitCid: string
  dataCid: string
}

export type RepoChange = { kind: 'commit'; repo: RepoState; chainBreak: boolean } | { kind: 'sync'; repo: RepoState }

export class AccountNotFoundError extends Error {
  override name = 'AccountNotFoundError'
}

export class HostNotFoundError extends Error {
  override name = 'HostNotFoundError'
}

// Like indigo's Account.IsActive: both sides active (a relay-throttled account still is).
export function isAccountActive(a: Account): boolean {
  return (a.status === 'active' || a.status === 'throttled') && a.upstreamStatus === 'active'
}

// The `status` of #account / getRepoStatus: undefined when active; local status first.
export function publicAccountStatus(a: Account): string | undefined {
  if (isAccountActive(a)) return undefined
  if (a.status === 'host-throttled') return 'throttled'
  return a.status !== 'active' ? a.status : a.upstreamStatus
}

function counted(a: Pick<Account, 'upstreamStatus'>): boolean {
  return a.upstreamStatus !== 'deleted'
}

interface AccountRow {
  id: number
  did: string
  host_id: number
  status: LocalAccountStatus
  upstream_status: string
  upstream_checked_at: number | null
  rev: string | null
  commit_cid: string | null
  data_cid: string | null
  desynchronized_since: number | null
  chain_breaks: number
  created_at: number
  updated_at: number
}

function toAccount(r: AccountRow): Account {
  return {
    id: r.id,
    did: r.did,
    hostId: r.host_id,
    status: r.status,
    upstreamStatus: r.upstream_status,
    upstreamCheckedAt: r.upstream_checked_at,
    rev: r.rev,
    commitCid: r.commit_cid,
    dataCid: r.data_cid,
    desynchronizedSince: r.desynchronized_since,
    chainBreaks: r.chain_breaks,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  }
}

export interface AccountCacheStats {
  hits: number
  misses: number
  size: number
}

export class AccountStore {
  private readonly cache: LruCache<string, Account>
  private readonly touched = new Set<string>()
  private hits = 0
  private misses = 0
  private readonly s: ReturnType<typeof prepare>

  constructor(
    private readonly db: Database,
    private readonly hosts: HostStore,
    private readonly now: () => number,
    cacheSize: number,
  ) {
    this.cache = new LruCache(cacheSize)
    this.s = prepare(db)
  }

  // Runs `fn` in one transaction (a savepoint when nested) and keeps the cache coherent.
  transaction<T>(fn: () => T): T {
    const outermost = !this.db.inTransaction
    try {
      const result = this.db.transaction(fn)()
      if (outermost) this.touched.clear()
      return result
    } catch (err) {
      for (const did of this.touched) this.cache.delete(did)
      this.touched.clear()
      throw err
    }
  }

  get(did: string): Account | undefined {
    const hit = this.cache.get(did)
    if (hit !== undefined) {
      this.hits++
      return hit
    }
    this.misses++
    const row = this.s.byDid.get(did)
    if (row === undefined) return undefined
    const a = toAccount(row)
    this.remember(a)
    return a
  }

  // Uncached (admin and listing paths).
  getById(id: number): Account | undefined {
    const row = this.s.byId.get(id)
    return row === undefined ? undefined : toAccount(row)
  }

  // Binds a newly seen DID to `hostId`: `host-throttled` when the host is at its limit.
  // Idempotent: an existing account is returned unchanged.
  create(did: string, hostId: number): Account {
    const existing = this.get(did)
    if (existing !== undefined) return existing
    return this.transaction(() => {
      const host = this.hosts.get(hostId)
      if (host === undefined) throw new HostNotFoundError(`no host with id ${hostId}`)
      const status: LocalAccountStatus = host.accountCount >= host.accountLimit ? 'host-throttled' : 'active'
      const now = this.now()
      const id = Number(this.s.insert.run(did, hostId, status, now, now).lastInsertRowid)
      this.hosts.adjustAccountCount(hostId, 1)
      const a: Account = {
        id, did, hostId, status, upstreamStatus: 'active', upstreamCheckedAt: null, rev: null, commitCid: null, dataCid: null,
        desynchronizedSince: null, chainBreaks: 0, createdAt: now, updatedAt: now,
      }
      this.remember(a)
      return a
    })
  }

  // Migration: the DID document now names `hostId`. Moves the count, and applies the new
  // host's limit the way creation does (release from host-throttled if it has room, throttle
  // if it is full).
  moveToHost(did: string, hostId: number): Account {
    const a = this.require(did)
    if (a.hostId === hostId) return a
    return this.transaction(() => {
      const host = this.hosts.get(hostId)
      if (host === undefined) throw new HostNotFoundError(`no host with id ${hostId}`)
      let status = a.status
      if (counted(a)) {
        const full = host.accountCount >= host.accountLimit
        if (status === 'host-throttled' && !full) status = 'active'
        else if (status === 'active' && full) status = 'host-throttled'
        this.hosts.adjustAccountCount(a.hostId, -1)
        this.hosts.adjustAccountCount(hostId, 1)
      }
      const next: Account = { ...a, hostId, status, updatedAt: this.now() }
      this.s.updHost.run(hostId, status, next.updatedAt, a.id)
      this.remember(next)
      return next
    })
  }

  // `checked`: the status came from asking the PDS (getRepoStatus), not from an event.
  setUpstreamStatus(did: string, status: string, checked = false): Account {
    const a = this.require(did)
    const now = this.now()
    const next: Account = { ...a, upstreamStatus: status, upstreamCheckedAt: checked ? now : a.upstreamCheckedAt, updatedAt: now }
    if (next.upstreamStatus === a.upstreamStatus && next.upstreamCheckedAt === a.upstreamCheckedAt) return a
    return this.transaction(() => {
      this.s.updUpstream.run(status, next.upstreamCheckedAt, now, a.id)
      this.hosts.adjustAccountCount(a.hostId, Number(counted(next)) - Number(counted(a)))
      this.remember(next)
      return next
    })
  }

  setLocalStatus(did: string, status: LocalAccountStatus): Account {
    const a = this.require(did)
    if (a.status === status) return a
    const next: Account = { ...a, status, updatedAt: this.now() }
    this.s.updLocal.run(status, next.updatedAt, a.id)
    this.remember(next)
    return next
  }

  // An accepted #commit. `chainBreak`: since/prevData did not match the stored state.
  recordCommit(did: string, repo: RepoState, chainBreak: boolean): Account {
    return this.recordRepoChanges(did, [{ kind: 'commit', repo, chainBreak }])
  }

  // An accepted #sync: the new state is authoritative, so the account is in sync again.
  recordSync(did: string, repo: RepoState): Account {
    return this.recordRepoChanges(did, [{ kind: 'sync', repo }])
  }

  // Accepted #commit/#sync events of one account, in order, as one row update: the result of
  // recording each in turn. A chain break counts and marks the account desynchronized (since
  // the first break); a consistent commit or a #sync clears the mark.
  recordRepoChanges(did: string, changes: readonly RepoChange[]): Account {
    const a = this.require(did)
    const now = this.now()
    let breaks = a.chainBreaks
    let desync = a.desynchronizedSince
    let repo: RepoState | undefined
    for (const c of changes) {
      repo = c.repo
      if (c.kind === 'commit' && c.chainBreak) {
        breaks++
        desync ??= now
      } else {
        desync = null
      }
    }
    return repo === undefined ? a : this.writeRepo(a, repo, breaks, desync, now)
  }

  remove(did: string): boolean {
    const a = this.get(did)
    if (a === undefined) return false
    this.transaction(() => {
      this.s.delete.run(a.id)
      if (counted(a)) this.hosts.adjustAccountCount(a.hostId, -1)
    })
    this.cache.delete(did)
    return true
  }

  // Pages by id (the listRepos cursor). `activeOnly`: both statuses active.
  list(opts: { afterId?: number; limit: number; hostId?: number; activeOnly?: boolean }): Account[] {
    const after = opts.afterId ?? 0
    let rows: AccountRow[]
    if (opts.hostId !== undefined) rows = this.s.listByHost.all(opts.hostId, after, opts.limit)
    else if (opts.activeOnly === true) rows = this.s.listActive.all(after, opts.limit)
    else rows = this.s.listAll.all(after, opts.limit)
    return rows.map(toAccount)
  }

  // Sets a host's limit and releases its oldest host-throttled accounts while there is room
  // under it; returns the released accounts (the caller emits #account for them).
  setHostAccountLimit(hostId: number, limit: number): Account[] {
    return this.transaction(() => {
      if (this.hosts.get(hostId) === undefined) throw new HostNotFoundError(`no host with id ${hostId}`)
      this.hosts.setAccountLimit(hostId, limit)
      const unthrottled = (this.s.countUnthrottled.get(hostId) as { n: number }).n
      const room = limit - unthrottled
      if (room <= 0) return []
      return this.s.throttled.all(hostId, room).map((row) => this.setLocalStatus(row.did, 'active'))
    })
  }

  stats(): AccountCacheStats {
    return { hits: this.hits, misses: this.misses, size: this.cache.size }
  }

  // Drops every cached account (tests; an operator editing the database by hand).
  clearCache(): void {
    this.cache.clear()
  }

  private writeRepo(a: Account, repo: RepoState, chainBreaks: number, desyncSince: number | null, now: number): Account {
    const next: Account = { ...a, rev: repo.rev, commitCid: repo.commitCid, dataCid: repo.dataCid, chainBreaks, desynchronizedSince: desyncSince, updatedAt: now }
    this.s.updRepo.run(repo.rev, repo.commitCid, repo.dataCid, chainBreaks, desyncSince, now, a.id)
    this.remember(next)
    return next
  }

  private require(did: string): Account {
    const a = this.get(did)
    if (a === undefined) throw new AccountNotFoundError(`no account for ${did}`)
    return a
  }

  private remember(a: Account): void {
    this.cache.set(a.did, a)
    if (this.db.inTransaction) this.touched.add(a.did)
  }
}

function prepare(db: Database) {
  return {
    byDid: db.prepare('SELECT * FROM accounts WHERE did = ?') as Statement<[string], AccountRow>,
    byId: db.prepare('SELECT * FROM accounts WHERE id = ?') as Statement<[number], AccountRow>,
    insert: db.prepare('INSERT INTO accounts (did, host_id, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?)') as Statement<[string, number, string, number, number]>,
    updHost: db.prepare('UPDATE accounts SET host_id = ?, status = ?, updated_at = ? WHERE id = ?') as Statement<[number, string, number, number]>,
    updUpstream: db.prepare('UPDATE accounts SET upstream_status = ?, upstream_checked_at = ?, updated_at = ? WHERE id = ?') as Statement<
      [string, number | null, number, number]
    >,
    updLocal: db.prepare('UPDATE accounts SET status = ?, updated_at = ? WHERE id = ?') as Statement<[string, number, number]>,
    updRepo: db.prepare(
      'UPDATE accounts SET rev = ?, commit_cid = ?, data_cid = ?, chain_breaks = ?, desynchronized_since = ?, updated_at = ? WHERE id = ?',
    ) as Statement<[string, string, string, number, number | null, number, number]>,
    delete: db.prepare('DELETE FROM accounts WHERE id = ?') as Statement<[number]>,
    listAll: db.prepare('SELECT * FROM accounts WHERE id > ? ORDER BY id LIMIT ?') as Statement<[number, number], AccountRow>,
    listActive: db.prepare("SELECT * FROM accounts WHERE id > ? AND status IN ('active', 'throttled') AND upstream_status = 'active' ORDER BY id LIMIT ?") as Statement<
      [number, number],
      AccountRow
    >,
    listByHost: db.prepare('SELECT * FROM accounts WHERE host_id = ? AND id > ? ORDER BY id LIMIT ?') as Statement<[number, number, number], AccountRow>,
    countUnthrottled: db.prepare("SELECT count(*) AS n FROM accounts WHERE host_id = ? AND status != 'host-throttled' AND upstream_status != 'deleted'") as Statement<[number]>,
    throttled: db.prepare("SELECT * FROM accounts WHERE host_id = ? AND status = 'host-throttled' AND upstream_status != 'deleted' ORDER BY id LIMIT ?") as Statement<
      [number, number],
      AccountRow
    >,
  }
}
