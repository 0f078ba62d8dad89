import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openStateDb } from '../../../lib/db/database.js'
import type { StateDb } from '../../../lib/db/database.js'
import { setLogSink } from '../../../lib/logger.js'

setLogSink(() => {})
const dir = mkdtempSync(join(tmpdir(), 'ringlay-bans-'))
after(() => rmSync(dir, { recursive: true, force: true }))

let n = 0
function fresh(now?: () => number): { state: StateDb; path: string } {
  const dataDir = join(dir, `db${n++}`)
  return { state: openStateDb({ dataDir, ...(now ? { now } : {}) }), path: join(dataDir, 'relay.sqlite') }
}

test('domain bans match the name and every parent domain, and persist', () => {
  const { state, path } = fresh()
  assert.ok(state.domainBans.add('Spam.Example'))
  assert.ok(!state.domainBans.add('spam.example'))
  assert.ok(state.domainBans.isBanned('spam.example'))
  assert.ok(state.domainBans.isBanned('pds.eu.spam.example'))
  assert.ok(!state.domainBans.isBanned('notspam.example'))
  assert.ok(!state.domainBans.isBanned('localhost:2583'))
  state.close()
  const again = openStateDb({ path })
  assert.ok(again.domainBans.isBanned('x.spam.example'))
  assert.deepEqual(again.domainBans.list().map((b) => b.domain), ['spam.example'])
  assert.ok(again.domainBans.remove('spam.example'))
  assert.ok(!again.domainBans.isBanned('x.spam.example'))
  again.close()
})
