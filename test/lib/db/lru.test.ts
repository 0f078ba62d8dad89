import { test } from 'node:test'
import assert from 'node:assert/strict'
import { LruCache } from '../../../lib/db/lru.js'

test('evicts the least recently used entry; get refreshes, peek does not', () => {
  const c = new LruCache<string, number>(2)
  c.set('a', 1)
  c.set('b', 2)
  assert.equal(c.get('a'), 1)
  c.set('c', 3)
  assert.equal(c.peek('b'), undefined)
  assert.equal(c.peek('a'), 1)
  c.set('d', 4)
  assert.equal(c.get('c'), 3)
  assert.equal(c.get('a'), undefined)
  c.set('c', 30)
  assert.equal(c.size, 2)
  assert.ok(c.delete('c'))
  assert.ok(!c.delete('c'))
  c.clear()
  assert.equal(c.size, 0)
  assert.throws(() => new LruCache(0), RangeError)
})
