// Fresh SQLite state databases for tests: each call opens a new one under a temp directory
// made for the calling test file and removed when its tests end.
import { after } from 'node:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openStateDb } from '../../lib/db/database.js'
import type { StateDb } from '../../lib/db/database.js'

export interface FreshStateDb {
  state: StateDb
  // The SQLite file, to reopen it or look at it with another connection.
  path: string
}

export function tempStateDbs(prefix: string): (opts?: { now?: () => number; accountCacheSize?: number }) => FreshStateDb {
  const dir = mkdtempSync(join(tmpdir(), `ringlay-${prefix}-`))
  after(() => rmSync(dir, { recursive: true, force: true }))
  let n = 0
  return (opts = {}) => {
    const dataDir = join(dir, `db${n++}`)
    return { state: openStateDb({ dataDir, ...opts }), path: join(dataDir, 'relay.sqlite') }
  }
}
