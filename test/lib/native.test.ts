import { test } from 'node:test'
import assert from 'node:assert/strict'
import { buildInfo } from '../../lib/native.js'

test('the addon loads and reports its build', () => {
  const info = buildInfo()
  assert.equal(info.abi, 1)
  assert.ok(['release', 'debug', 'asan'].includes(info.flavour))
})
