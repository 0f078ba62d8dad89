// The flag table: durations, integers, environment variables and their checks.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ConfigError, parseConfig, parseDuration } from '../../lib/config.js'

test('durations: 72h, 30m, 1h30m, 45s, 500ms, 2d', () => {
  assert.equal(parseDuration('72h'), 72 * 3600_000)
  assert.equal(parseDuration('30m'), 30 * 60_000)
  assert.equal(parseDuration('1h30m'), 90 * 60_000)
  assert.equal(parseDuration('45s'), 45_000)
  assert.equal(parseDuration('500ms'), 500)
  assert.equal(parseDuration('2d'), 2 * 86_400_000)
  for (const bad of ['', '72', 'h', '1.5h', '-1h', '72 h', '1y']) assert.equal(parseDuration(bad), undefined, bad)
})

test('relay flags: defaults, flags and environment variables', () => {
  const d = parseConfig([], {})
  assert.deepEqual(
    [d.adminPassword, d.lenientSyncValidation, d.replayWindowMs, d.initialSeqNumber, d.defaultAccountLimit, d.newHostsPerDayLimit],
    [undefined, false, 72 * 3600_000, 1, 100, 50],
  )
  const f = parseConfig(['--admin-password', 'pw', '--lenient-sync-validation', '--replay-window', '30m', '--initial-seq-number', '20000000000'], {})
  assert.deepEqual([f.adminPassword, f.lenientSyncValidation, f.replayWindowMs, f.initialSeqNumber], ['pw', true, 30 * 60_000, 20_000_000_000])
  const e = parseConfig([], { RELAY_ADMIN_PASSWORD: 'envpw', RELAY_LENIENT_SYNC_VALIDATION: 'true', RELAY_REPLAY_WINDOW: '1h', RELAY_INITIAL_SEQ_NUMBER: '5' })
  assert.deepEqual([e.adminPassword, e.lenientSyncValidation, e.replayWindowMs, e.initialSeqNumber], ['envpw', true, 3600_000, 5])
})

test('bad values are refused naming the flag', () => {
  assert.throws(() => parseConfig(['--replay-window', '3 days'], {}), (err: Error) => err instanceof ConfigError && /--replay-window/.test(err.message))
  assert.throws(() => parseConfig(['--initial-seq-number', '0'], {}), /--initial-seq-number must be > 0/)
  assert.throws(() => parseConfig(['--initial-seq-number', '-5'], {}), ConfigError)
  assert.throws(() => parseConfig([], { RELAY_DEFAULT_ACCOUNT_LIMIT: 'lots' }), /--default-account-limit must be a whole number/)
})
