// The flag table: durations, integers, environment variables and their checks.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ConfigError, parseBytes, parseConfig, parseDuration } from '../../lib/config.js'

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

test('byte sizes: --replay-max-bytes takes K/M/G/T suffixes, 0 is no cap', () => {
  assert.equal(parseBytes('4096'), 4096)
  assert.equal(parseBytes('500M'), 500 * 1024 ** 2)
  assert.equal(parseBytes('200g'), 200 * 1024 ** 3)
  assert.equal(parseBytes('1TB'), 1024 ** 4)
  for (const bad of ['', 'G', '1.5G', '-1G', '10 G', '3P']) assert.equal(parseBytes(bad), undefined, bad)
  assert.equal(parseConfig([], {}).replayMaxBytes, 0)
  assert.equal(parseConfig(['--replay-max-bytes', '2G'], {}).replayMaxBytes, 2 * 1024 ** 3)
  assert.equal(parseConfig([], { RELAY_REPLAY_MAX_BYTES: '64M' }).replayMaxBytes, 64 * 1024 ** 2)
  assert.throws(() => parseConfig(['--replay-max-bytes', 'lots'], {}), /--replay-max-bytes must be a size/)
})

test('bad values are refused naming the flag', () => {
  assert.throws(() => parseConfig(['--replay-window', '3 days'], {}), (err: Error) => err instanceof ConfigError && /--replay-window/.test(err.message))
  assert.throws(() => parseConfig(['--initial-seq-number', '0'], {}), /--initial-seq-number must be > 0/)
  assert.throws(() => parseConfig(['--initial-seq-number', '-5'], {}), ConfigError)
  assert.throws(() => parseConfig([], { RELAY_DEFAULT_ACCOUNT_LIMIT: 'lots' }), /--default-account-limit must be a whole number/)
})
