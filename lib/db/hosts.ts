// The hosts table: every upstream PDS the relay knows, its status, the upstream cursor, the
// account count against its limit, and dial failures for backoff. Hosts are few (thousands)
// and read once per batch at most, so there is no cache: a prepared primary-key SELECT is
// a few microseconds. Statements are prepared once, in the constructor.
import type { Database, Statement } from 'better-sqlite3'

export type HostStatus = 'active' | 'idle' | 'offline' | 'throttled' | 'banned'
export const hostStatuses: readonly HostStatus[] = ['active', 'idle', 'offline', 'throttled', 'banned']

export interface Host {
  readonly id: number
  readonly hostname: string
  readonly noTls: boolean
  readonly status: HostStatus
  // Last upstream seq persisted (-1: none yet); a reconnect resumes after it.
  readonly lastSeq: number
  // Accounts bound to this host, except those deleted upstream.
  readonly accountCount: number
  readonly accountLimit: number
  readonly trusted: boolean
  // Consecutive dial failures since the last successful connection.
  readonly failures: number
  readonly lastFailureAt: number | null
  readonly lastError: string | null
  readonly createdAt: number
  readonly updatedAt: number
  // Last time an event from this host was persisted (cursor write) or it connected.
  readonly lastSeenAt: number | null
}

export interface NewHost {
  hostname: string
  noTls: boolean
  trusted: boolean
  accountLimit: number
  status?: HostStatus
}

interface HostRow {
  id: number
  hostname: string
  no_tls: number
  status: HostStatus
  last_seq: number
  account_count: number
  account_limit: number
  trusted: number
  failures: number
  last_failure_at: number | null
  last_error: string | null
  created_at: number
  updated_at: number
  last_seen_at: number | null
}

function toHost(r: HostRow): Host {
  return {
    id: r.id,
    hostname: r.hostname,
    noTls: r.no_tls !== 0,
    status: r.status,
    lastSeq: r.last_seq,
    accountCount: r.account_count,
    accountLimit: r.account_limit,
    trusted: r.trusted !== 0,
    failures: r.failures,
    lastFailureAt: r.last_failure_at,
    lastError: r.last_error,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    lastSeenAt: r.last_seen_at,
  }
}

export class HostStore {
  private readonly byId: Statement<[number], HostRow>
  private readonly byName: Statement<[string], HostRow>
  private readonly insert: Statement<[string, number, string, number, number, number, number]>
  private readonly listAll: Statement<[number, number], HostRow>
  private readonly listByStatus: Statement<[number, string, number], HostRow>
  private readonly updStatus: Statement<[string, number, number]>
  private readonly updLimit: Statement<[number, number, number]>
  private readonly updTrusted: Statement<[number, number, number]>
  private readonly updCursor: Statement<[number, number, number]>
  private readonly updCursorSeen: Statement<{ id: number; seq: number; now: number }>
  private readonly updFailure: Statement<[number, string | null, number, number]>
  private readonly updConnected: Statement<[number, number, number]>
  private readonly updCount: Statement<[number, number, number]>
  private readonly recountStmt: Statement<[number]>
  private readonly summaryStmt: Statement<[], { status: HostStatus; hosts: number; at_limit: number }>

  constructor(
    db: Database,
    private readonly now: () => number,
  ) {
    this.byId = db.prepare('SELECT * FROM hosts WHERE id = ?')
    this.byName = db.prepare('SELECT * FROM hosts WHERE hostname = ?')
    this.insert = db.prepare(
      'INSERT INTO hosts (hostname, no_tls, status, account_limit, trusted, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (hostname) DO NOTHING',
    )
    this.listAll = db.prepare('SELECT * FROM hosts WHERE id > ? ORDER BY id LIMIT ?')
    this.listByStatus = db.prepare('SELECT * FROM hosts WHERE id > ? AND status = ? ORDER BY id LIMIT ?')
    this.updStatus = db.prepare('UPDATE hosts SET status = ?, updated_at = ? WHERE id = ?')
    this.updLimit = db.prepare('UPDATE hosts SET account_limit = ?, updated_at = ? WHERE id = ?')
    this.updTrusted = db.prepare('UPDATE hosts SET trusted = ?, updated_at = ? WHERE id = ?')
    this.updCursor = db.prepare('UPDATE hosts SET last_seq = ?, updated_at = ? WHERE id = ?')
    // A host that delivers events again is healthy again, whatever marked it idle or offline
    // (indigo PR #1068); throttled and banned are decisions and stay.
    this.updCursorSeen = db.prepare(`UPDATE hosts SET last_seq = :seq, last_seen_at = :now, updated_at = :now,
      status = CASE WHEN status IN ('idle', 'offline') THEN 'active' ELSE status END WHERE id = :id`)
    this.updFailure = db.prepare('UPDATE hosts SET failures = failures + 1, last_failure_at = ?, last_error = ?, updated_at = ? WHERE id = ?')
    this.updConnected = db.prepare('UPDATE hosts SET failures = 0, last_seen_at = ?, updated_at = ? WHERE id = ?')
    this.updCount = db.prepare('UPDATE hosts SET account_count = account_count + ?, updated_at = ? WHERE id = ?')
    this.recountStmt = db.prepare(`UPDATE hosts SET account_count =
      (SELECT count(*) FROM accounts WHERE accounts.host_id = hosts.id AND accounts.upstream_status != 'deleted'), updated_at = ?`)
    this.summaryStmt = db.prepare('SELECT status, count(*) AS hosts, sum(account_count >= account_limit) AS at_limit FROM hosts GROUP BY status')
  }

  get(id: number): Host | undefined {
    const r = this.byId.get(id)
    return r === undefined ? undefined : toHost(r)
  }

  byHostname(hostname: string): Host | undefined {
    const r = this.byName.get(hostname)
    return r === undefined ? undefined : toHost(r)
  }

  // Creates the host unless one with that name exists; either way returns the stored row.
  ensure(h: NewHost): { host: Host; created: boolean } {
    const now = this.now()
    const info = this.insert.run(h.hostname, h.noTls ? 1 : 0, h.status ?? 'active', h.accountLimit, h.trusted ? 1 : 0, now, now)
    return { host: this.byHostname(h.hostname) as Host, created: info.changes === 1 }
  }

  // Pages by id (the listHosts cursor).
  list(opts: { afterId?: number; limit: number; status?: HostStatus }): Host[] {
    const after = opts.afterId ?? 0
    const rows = opts.status === undefined ? this.listAll.all(after, opts.limit) : this.listByStatus.all(after, opts.status, opts.limit)
    return rows.map(toHost)
  }

  setStatus(id: number, status: HostStatus): void {
    this.updStatus.run(status, this.now(), id)
  }

  setTrusted(id: number, trusted: boolean): void {
    this.updTrusted.run(trusted ? 1 : 0, this.now(), id)
  }

  // Raw limit change; AccountStore.setHostAccountLimit also releases throttled accounts.
  setAccountLimit(id: number, limit: number): void {
    if (!Number.isInteger(limit) || limit < 0) throw new RangeError(`account limit must be a non-negative integer (got ${limit})`)
    this.updLimit.run(limit, this.now(), id)
  }

  // Operator reset (e.g. a PDS whose sequence restarted): no status change.
  setCursor(id: number, seq: number): void {
    this.updCursor.run(seq, this.now(), id)
  }

  // Events up to `seq` are durable (or deliberately dropped): persist the cursor.
  recordCursor(id: number, seq: number): void {
    this.updCursorSeen.run({ id, seq, now: this.now() })
  }

  // One more failed dial; returns the new consecutive failure count.
  recordFailure(id: number, error: string | null): number {
    const now = this.now()
    this.updFailure.run(now, error, now, id)
    return this.get(id)?.failures ?? 0
  }

  recordConnected(id: number): void {
    const now = this.now()
    this.updConnected.run(now, now, id)
  }

  // For AccountStore, inside its transactions.
  adjustAccountCount(id: number, delta: number): void {
    if (delta !== 0) this.updCount.run(delta, this.now(), id)
  }

  // Hosts per status, and how many are at their account limit (new accounts there are
  // host-throttled: operators asked to see this rather than discover it; indigo-relay.md §10).
  // One small GROUP BY, cheap enough for every metrics scrape.
  summary(): { byStatus: Record<HostStatus, number>; atAccountLimit: number } {
    const byStatus = Object.fromEntries(hostStatuses.map((s) => [s, 0])) as Record<HostStatus, number>
    let atAccountLimit = 0
    for (const r of this.summaryStmt.all()) {
      byStatus[r.status] = r.hosts
      atAccountLimit += r.at_limit
    }
    return { byStatus, atAccountLimit }
  }

  // Recomputes every host's account_count from the accounts table: repairs counts that drifted
  // (or that an older relay never decremented). A full scan; an operator action, not a hot path.
  recountAccounts(): void {
    this.recountStmt.run(this.now())
  }
}
