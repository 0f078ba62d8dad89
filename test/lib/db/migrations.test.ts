import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { openStateDb } from '../../../lib/db/database.js'
import { SchemaVersionError, migrate, migrations, schemaVersion } from '../../../lib/db/migrations.js'
import type { Migration } from '../../../lib/db/migrations.js'
import { setLogSink } from '../../../lib/logger.js'

setLogSink(() => {})
const dir = mkdtempSync(join(tmpdir(), 'ringlay-migrations-'))
after(() => rmSync(dir, { recursive: true, force: true }))

function tables(db: Database.Database): string[] {
  return (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((r) => r.name)
}

test('a fresh data dir gets relay.sqlite at the newest version, in WAL mode', () => {
  const state = openStateDb({ dataDir: join(dir, 'fresh') })
  try {
    assert.equal(schemaVersion(state.sqlite), migrations.length)
    assert.deepEqual(tables(state.sqlite), ['accounts', 'domain_bans', 'hosts', 'identities', 'relay_meta'])
    assert.equal(state.sqlite.pragma('journal_mode', { simple: true }), 'wal')
    assert.equal(state.sqlite.pragma('synchronous', { simple: true }), 1) // NORMAL
    assert.equal(state.sqlite.pragma('foreign_keys', { simple: true }), 1)
    assert.equal(state.sqlite.pragma('busy_timeout', { simple: true }), 5000)
  } finally {
    state.close()
  }
})

test('reopening an existing database keeps its rows and runs nothing', () => {
  const dataDir = join(dir, 'existing')
  const first = openStateDb({ dataDir })
  const { host } = first.hosts.ensure({ hostname: 'pds.example.com', noTls: false, trusted: false, accountLimit: 10 })
  first.accounts.create('did:plc:aaaaaaaaaaaaaaaaaaaaaaaa', host.id)
  first.close()
  const second = openStateDb({ dataDir })
  try {
    assert.equal(second.hosts.byHostname('pds.example.com')?.accountCount, 1)
    assert.equal(second.accounts.get('did:plc:aaaaaaaaaaaaaaaaaaaaaaaa')?.hostId, host.id)
  } finally {
    second.close()
  }
})

test('an existing database at an older version is upgraded in order, data kept', () => {
  const path = join(dir, 'upgrade.sqlite')
  const v1 = new Database(path)
  assert.deepEqual(migrate(v1), { from: 0, to: migrations.length })
  v1.prepare("INSERT INTO domain_bans (domain, created_at) VALUES ('spam.example', 1)").run()
  v1.close()

  const applied: number[] = []
  const next: Migration[] = [
    ...migrations,
    { version: migrations.length + 1, name: 'add notes', up: (db) => (applied.push(1), db.exec('ALTER TABLE domain_bans ADD COLUMN note TEXT')) },
    { version: migrations.length + 2, name: 'fill notes', up: (db) => (applied.push(2), db.exec("UPDATE domain_bans SET note = 'from v1'")) },
  ]
  const db = new Database(path)
  try {
    assert.deepEqual(migrate(db, next), { from: migrations.length, to: migrations.length + 2 })
    assert.deepEqual(applied, [1, 2])
    assert.deepEqual(db.prepare('SELECT domain, note FROM domain_bans').all(), [{ domain: 'spam.example', note: 'from v1' }])
    // Idempotent.
    assert.deepEqual(migrate(db, next), { from: migrations.length + 2, to: migrations.length + 2 })
    assert.deepEqual(applied, [1, 2])
  } finally {
    db.close()
  }
})

test('a failing migration rolls back with its version bump; earlier ones stay', () => {
  const db = new Database(':memory:')
  const broken: Migration[] = [
    ...migrations,
    { version: migrations.length + 1, name: 'ok', up: (d) => d.exec('CREATE TABLE extra (x INTEGER)') },
    { version: migrations.length + 2, name: 'broken', up: (d) => (d.exec('CREATE TABLE half (x INTEGER)'), d.exec('NOT SQL')) },
  ]
  assert.throws(() => migrate(db, broken))
  assert.equal(schemaVersion(db), migrations.length + 1)
  assert.ok(tables(db).includes('extra'))
  assert.ok(!tables(db).includes('half'))
  db.close()
})

test('a database from a newer relay is refused; version gaps are a bug', () => {
  const db = new Database(':memory:')
  db.pragma(`user_version = ${migrations.length + 5}`)
  assert.throws(() => migrate(db), SchemaVersionError)
  const gap: Migration[] = [{ version: 2, name: 'gap', up: () => {} }]
  assert.throws(() => migrate(new Database(':memory:'), gap), SchemaVersionError)
  db.close()
})
