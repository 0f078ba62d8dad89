import { test } from 'node:test'
import assert from 'node:assert/strict'
import { setLogSink } from '../../../lib/logger.js'
import { tempStateDbs } from '../../helpers/state-db.js'

setLogSink(() => {})
const make = tempStateDbs('hosts')
const fresh = (now?: () => number) => make(now ? { now } : {})

test('hosts: ensure, list, cursor persistence heals idle/offline, failures count up and reset', () => {
  let clock = 10
  const { state } = fresh(() => clock)
  const made = state.hosts.ensure({ hostname: 'a.example.com', noTls: false, trusted: true, accountLimit: 5 })
  assert.equal(made.created, true)
  const again = state.hosts.ensure({ hostname: 'a.example.com', noTls: true, trusted: false, accountLimit: 9 })
  assert.deepEqual([again.created, again.host.id, again.host.noTls, again.host.trusted, again.host.accountLimit], [false, made.host.id, false, true, 5])
  const b = state.hosts.ensure({ hostname: 'localhost:2583', noTls: true, trusted: false, accountLimit: 100, status: 'idle' }).host
  const c = state.hosts.ensure({ hostname: 'c.example.com', noTls: false, trusted: false, accountLimit: 100 }).host
  assert.deepEqual([b.status, b.lastSeq, b.accountCount, b.failures, b.createdAt], ['idle', -1, 0, 0, 10])
  assert.equal(state.hosts.byHostname('localhost:2583')?.id, b.id)

  assert.deepEqual(state.hosts.list({ limit: 2 }).map((h) => h.hostname), ['a.example.com', 'localhost:2583'])
  assert.deepEqual(state.hosts.list({ limit: 2, afterId: b.id }).map((h) => h.hostname), ['c.example.com'])
  assert.deepEqual(state.hosts.list({ limit: 10, status: 'idle' }).map((h) => h.id), [b.id])

  clock = 20
  state.hosts.setStatus(c.id, 'banned')
  state.applyBatch([
    { kind: 'host-cursor', hostId: b.id, seq: 50 },
    { kind: 'host-cursor', hostId: c.id, seq: 7 },
  ])
  assert.deepEqual([state.hosts.get(b.id)?.status, state.hosts.get(b.id)?.lastSeq, state.hosts.get(b.id)?.lastSeenAt], ['active', 50, 20])
  assert.equal(state.hosts.get(c.id)?.status, 'banned')
  state.hosts.setCursor(b.id, -1)
  assert.equal(state.hosts.get(b.id)?.lastSeq, -1)

  assert.equal(state.hosts.recordFailure(b.id, 'ECONNREFUSED'), 1)
  clock = 30
  assert.equal(state.hosts.recordFailure(b.id, 'timeout'), 2)
  assert.deepEqual([state.hosts.get(b.id)?.lastFailureAt, state.hosts.get(b.id)?.lastError], [30, 'timeout'])
  state.hosts.recordConnected(b.id)
  assert.equal(state.hosts.get(b.id)?.failures, 0)
  state.hosts.setTrusted(b.id, true)
  assert.equal(state.hosts.get(b.id)?.trusted, true)
  assert.throws(() => state.hosts.setAccountLimit(b.id, -1), RangeError)
  state.hosts.setAccountLimit(c.id, 0)
  assert.deepEqual(state.hosts.summary(), { byStatus: { active: 2, idle: 0, offline: 0, throttled: 0, banned: 1 }, atAccountLimit: 1 })
  assert.throws(() => state.sqlite.prepare("UPDATE hosts SET status = 'weird'").run())
  state.close()
})
