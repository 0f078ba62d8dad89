import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildInfo, loadNative, tuneAllocator } from '../../lib/native.js'

test('the addon loads and reports its build', () => {
  const info = buildInfo()
  assert.equal(info.abi, 1)
  assert.ok(['release', 'debug', 'asan'].includes(info.flavour))
})

test('tuneAllocator: glibc accepts the settings; bad sizes are a RangeError', () => {
  const ok = tuneAllocator({ trimThresholdBytes: 64 * 1024 * 1024, topPadBytes: 4 * 1024 * 1024 })
  // Sanitizer runtimes replace malloc and may refuse mallopt.
  if (buildInfo().flavour !== 'asan') assert.equal(ok, true)
  const raw = loadNative().tuneAllocator as (o: unknown) => boolean
  assert.throws(() => raw({ trimThresholdBytes: -1 }), RangeError)
  assert.throws(() => raw({ topPadBytes: 2 ** 40 }), RangeError)
  assert.throws(() => raw(undefined), TypeError)
})
