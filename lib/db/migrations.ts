// Versioned schema migrations. The version lives in SQLite's `user_version` header field;
// each migration runs in its own transaction together with the version bump, so a crash
// leaves the database at the last complete version and the next start resumes from there.
// Never edit a released migration: append a new one.
import type { Database } from 'better-sqlite3'
import { logger } from '../logger.js'

export interface Migration {
  version: number
  name: string
  up: (db: Database) => void
}

export class SchemaVersionError extends Error {
  override name = 'SchemaVersionError'
}

// Timestamps are integer milliseconds since the epoch. STRICT tables make SQLite reject a
// value of the wrong type instead of storing it.
const initialSchema = `
CREATE TABLE hosts (
  id INTEGER PRIMARY KEY,
  hostname TEXT NOT NULL UNIQUE,
  no_tls INTEGER NOT NULL DEFAULT 0,
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'idle', 'offline', 'throttled', 'banned')),
  last_seq INTEGER NOT NULL DEFAULT -1,
  account_count INTEGER NOT NULL DEFAULT 0,
  account_limit INTEGER NOT NULL,
  trusted INTEGER NOT NULL DEFAULT 0,
  failures INTEGER NOT NULL DEFAULT 0,
  last_failure_at INTEGER,
  last_error TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  last_seen_at INTEGER
) STRICT;

CREATE TABLE accounts (
  id INTEGER PRIMARY KEY,
  did TEXT NOT NULL UNIQUE,
  host_id INTEGER NOT NULL REFERENCES hosts (id),
  status TEXT NOT NULL DEFAULT 'active',
  upstream_status TEXT NOT NULL DEFAULT 'active',
  upstream_checked_at INTEGER,
  rev TEXT,
  commit_cid TEXT,
  data_cid TEXT,
  desynchronized_since INTEGER,
  chain_breaks INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX accounts_by_host ON accounts (host_id, id);

CREATE TABLE identities (
  did TEXT PRIMARY KEY,
  key_type TEXT,
  key_multibase TEXT,
  pds_endpoint TEXT,
  handle TEXT,
  error TEXT,
  error_message TEXT,
  fetched_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE domain_bans (
  id INTEGER PRIMARY KEY,
  domain TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL
) STRICT;
`

// Relay bookkeeping that must commit together with account state: `state_applied_seq`, the
// highest relay seq whose account changes are in SQLite (lib/relay/recovery.ts replays the
// event log after it at startup).
const relayMeta = `
CREATE TABLE relay_meta (
  key TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
`

export const migrations: readonly Migration[] = [
  { version: 1, name: 'initial schema', up: (db) => db.exec(initialSchema) },
  { version: 2, name: 'relay meta', up: (db) => db.exec(relayMeta) },
]

export function schemaVersion(db: Database): number {
  return db.pragma('user_version', { simple: true }) as number
}

// Brings `db` up to the newest version in `list`; returns the versions before and after.
export function migrate(db: Database, list: readonly Migration[] = migrations): { from: number; to: number } {
  list.forEach((m, i) => {
    if (m.version !== i + 1) throw new SchemaVersionError(`migration ${i} has version ${m.version}; versions must be 1, 2, 3, …`)
  })
  const latest = list.length
  const from = schemaVersion(db)
  if (from > latest) throw new SchemaVersionError(`database schema version ${from} is newer than this relay knows (${latest}); refusing to touch it`)
  for (const m of list) {
    if (m.version <= from) continue
    db.transaction(() => {
      m.up(db)
      db.pragma(`user_version = ${m.version}`)
    })()
    logger.info('db', 'migrated', { version: m.version, name: m.name })
  }
  return { from, to: schemaVersion(db) }
}
