// The identities table: the persistent layer under lib/identity's in-memory cache, so a
// restart serves known DIDs from disk instead of asking the PLC for every account again
// (indigo's restart storm, indigo-relay.md §3.6). Failures are stored too, with their short
// expiry, so a restart does not retry every broken DID at once either.
import type { Database, Statement } from 'better-sqlite3'

export interface IdentityRecord {
  did: string
  // Present when error is null.
  keyType: string | null
  keyMultibase: string | null
  pdsEndpoint: string | null
  handle: string | null
  // A failure reason (lib/identity ResolveFailureReason) or null for a usable identity.
  error: string | null
  errorMessage: string | null
  fetchedAt: number
  expiresAt: number
}

interface IdentityRow {
  did: string
  key_type: string | null
  key_multibase: string | null
  pds_endpoint: string | null
  handle: string | null
  error: string | null
  error_message: string | null
  fetched_at: number
  expires_at: number
}

export class IdentityStore {
  private readonly byDid: Statement<[string], IdentityRow>
  private readonly upsert: Statement<IdentityRow>
  private readonly del: Statement<[string]>
  private readonly prune: Statement<[number]>
  private readonly putAll: (records: readonly IdentityRecord[]) => void

  constructor(db: Database) {
    this.byDid = db.prepare('SELECT * FROM identities WHERE did = ?')
    this.upsert = db.prepare(`INSERT INTO identities (did, key_type, key_multibase, pds_endpoint, handle, error, error_message, fetched_at, expires_at)
      VALUES (:did, :key_type, :key_multibase, :pds_endpoint, :handle, :error, :error_message, :fetched_at, :expires_at)
      ON CONFLICT (did) DO UPDATE SET key_type = excluded.key_type, key_multibase = excluded.key_multibase,
        pds_endpoint = excluded.pds_endpoint, handle = excluded.handle, error = excluded.error,
        error_message = excluded.error_message, fetched_at = excluded.fetched_at, expires_at = excluded.expires_at`)
    this.del = db.prepare('DELETE FROM identities WHERE did = ?')
    this.prune = db.prepare('DELETE FROM identities WHERE fetched_at < ?')
    this.putAll = db.transaction((records: readonly IdentityRecord[]) => {
      for (const r of records) this.upsert.run(toRow(r))
    })
  }

  get(did: string): IdentityRecord | undefined {
    const r = this.byDid.get(did)
    return r === undefined ? undefined : fromRow(r)
  }

  // Upserts in one transaction (the resolver buffers its writes and flushes them together).
  putMany(records: readonly IdentityRecord[]): void {
    if (records.length > 0) this.putAll(records)
  }

  delete(did: string): void {
    this.del.run(did)
  }

  // Drops entries fetched before `before`; returns how many.
  pruneFetchedBefore(before: number): number {
    return this.prune.run(before).changes
  }
}

function toRow(r: IdentityRecord): IdentityRow {
  return {
    did: r.did,
    key_type: r.keyType,
    key_multibase: r.keyMultibase,
    pds_endpoint: r.pdsEndpoint,
    handle: r.handle,
    error: r.error,
    error_message: r.errorMessage,
    fetched_at: r.fetchedAt,
    expires_at: r.expiresAt,
  }
}

function fromRow(r: IdentityRow): IdentityRecord {
  return {
    did: r.did,
    keyType: r.key_type,
    keyMultibase: r.key_multibase,
    pdsEndpoint: r.pds_endpoint,
    handle: r.handle,
    error: r.error,
    errorMessage: r.error_message,
    fetchedAt: r.fetched_at,
    expiresAt: r.expires_at,
  }
}
