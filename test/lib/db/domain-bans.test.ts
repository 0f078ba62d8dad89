import { test } from 'node:test'
import assert from 'node:assert/strict'
import { openStateDb } from '../../../lib/db/database.js'
import { setLogSink } from '../../../lib/logger.js'
import { tempStateDbs } from '../../helpers/state-db.js'

setLogSink(() => {})
const make = tempStateDbs('bans')
const fresh = (now?: () => number) => make(now ? { now } : {})

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
