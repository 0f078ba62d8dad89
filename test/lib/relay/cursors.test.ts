// The upstream cursor low-water mark: it moves only over events that are durable in the log
// or were dropped, whatever order their notices arrive in.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { CursorTracker } from '../../../lib/relay/cursors.js'

test('the cursor follows the finished prefix: drops and durable writes in any order', () => {
  const t = new CursorTracker()
  // Events id 1..5 from host 7 with upstream seqs 10..50.
  for (let i = 1; i <= 5; i++) t.received(i, 7, i * 10)
  // Nothing below the first event was received: a restart may resume right below it.
  assert.equal(t.finishedSeq(7), 9)
  assert.equal(t.receivedSeq(7), 50)
  t.dropped(2)
  assert.equal(t.finishedSeq(7), 9, 'seq 10 still pending holds the cursor')
  // 3 and 4 written (relay seqs 100, 101) but only 100 durable.
  t.written({ ids: [3, 4], seqs: [100, 101], durableSeq: 100 })
  assert.equal(t.finishedSeq(7), 9)
  t.written({ ids: [1], seqs: [102], durableSeq: 100 })
  assert.equal(t.finishedSeq(7), 9, '1 is written but not durable')
  // A notice with no ids that only moves durableSeq.
  t.written({ ids: [], seqs: [], durableSeq: 101 })
  assert.equal(t.finishedSeq(7), 9, 'relay seq 102 (event 1) is still not durable')
  t.syncedUpTo(102)
  assert.equal(t.finishedSeq(7), 40, 'events 1..4 finished; 5 pending')
  assert.equal(t.unfinished(7), 1)
  t.dropped(5)
  assert.equal(t.finishedSeq(7), 50)
  assert.equal(t.unfinished(7), 0)
})

test('hosts are independent, events without a seq are not tracked, and notices for unknown ids are ignored', () => {
  const t = new CursorTracker()
  t.received(1, 1, 5)
  t.received(2, 2, 7)
  t.received(3, 1, -1) // #info
  t.received(1, 1, 5) // a retried event keeps its one entry
  t.written({ ids: [2, 99], seqs: [1, 2], durableSeq: 2 })
  assert.equal(t.finishedSeq(2), 7)
  assert.equal(t.finishedSeq(1), 4)
  assert.equal(t.finishedSeq(3), -1, 'a host with no events has no cursor')
  t.dropped(1)
  assert.equal(t.finishedSeq(1), 5)
  assert.equal(t.unfinished(1), 0)
})

test('after a reset (FutureCursor) events from before no longer move the cursor', () => {
  const t = new CursorTracker()
  t.received(1, 3, 1000)
  t.received(9, 3, 1001)
  t.reset(3)
  assert.equal(t.receivedSeq(3), -1)
  assert.equal(t.finishedSeq(3), -1)
  t.received(2, 3, 4)
  t.dropped(1)
  t.dropped(9)
  assert.equal(t.finishedSeq(3), 3, 'the old events do not count')
  t.dropped(2)
  assert.equal(t.finishedSeq(3), 4)
})

test('many events: compaction keeps the order and the cursor right', () => {
  const t = new CursorTracker()
  const n = 5000
  for (let i = 1; i <= n; i++) t.received(i, 1, i)
  // Finish every even id first, then the odd ones in reverse.
  for (let i = 2; i <= n; i += 2) t.dropped(i)
  assert.equal(t.finishedSeq(1), 0)
  for (let i = n - 1; i >= 1; i -= 2) {
    t.dropped(i)
    if (i > 1) assert.equal(t.finishedSeq(1), 0)
  }
  assert.equal(t.finishedSeq(1), n)
  for (let i = n + 1; i <= n + 3000; i++) t.received(i, 1, i)
  for (let i = n + 1; i <= n + 3000; i++) t.dropped(i)
  assert.equal(t.finishedSeq(1), n + 3000)
})

test('the first event of a host announces itself, so its first cursor is written at once', () => {
  const t = new CursorTracker()
  const first: number[] = []
  t.onFirstEvent = (h) => first.push(h)
  t.received(1, 5, 100)
  t.received(2, 5, 101)
  t.received(3, 6, 7)
  t.reset(5)
  t.received(4, 5, 2)
  assert.deepEqual(first, [5, 6, 5])
})
