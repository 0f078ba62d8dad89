import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { EventLog, EventLogError } from '../../../lib/log/event-log.js'
import { didFor, frameFor } from './frames.js'

function withDir(fn: (dir: string) => Promise<void> | void): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ringlay-log-'))
    try {
      await fn(dir)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

function appendRange(log: EventLog, count: number, timeMs: number, accounts = 5): void {
  const first = log.nextSeq()
  const frames = Array.from({ length: count }, (_, i) => frameFor(first + i))
  const dids = Array.from({ length: count }, (_, i) => didFor(first + i, accounts))
  const r = log.append(frames, dids, timeMs)
  assert.ok(r.ok, r.reason)
  assert.equal(r.firstSeq, first)
  assert.equal(r.lastSeq, first + count - 1)
}

function readAll(log: EventLog, after: number): number[] {
  const seqs: number[] = []
  for (;;) {
    const r = log.read(after, 4096)
    if (r.state !== 'frames') return seqs
    for (const f of r.frames) {
      assert.ok(f.bytes.equals(frameFor(f.seq)))
      seqs.push(f.seq)
    }
    after = r.position
  }
}

test('append and read back exact bytes; watermarks and stats', withDir((dir) => {
  const log = EventLog.open({ dataDir: dir, initialSeq: 1000 })
  assert.equal(log.recovery.nextSeq, 1000)
  appendRange(log, 120, Date.now())
  assert.equal(log.writtenSeq(), 1119)
  assert.deepEqual(readAll(log, 0), Array.from({ length: 120 }, (_, i) => 1000 + i))
  assert.deepEqual(readAll(log, 1100), Array.from({ length: 19 }, (_, i) => 1101 + i))
  assert.equal(log.read(1119).state, 'at_head')
  assert.ok(log.sync().ok)
  assert.equal(log.durableSeq(), 1119)
  const s = log.stats()
  assert.equal(s.recordsAppended, 120)
  assert.equal(s.oldestSeq, 1000)
  assert.ok(s.fsyncs >= 1)
  assert.equal(log.append([frameFor(1)], ['did:plc:x'], 0, 5).reason, 'seq_order')
  assert.ok(log.close().ok)
  assert.equal(log.append([frameFor(1)], ['did:plc:x']).reason, 'closed')
  const again = EventLog.open({ dataDir: dir })
  assert.equal(again.nextSeq(), 1120)
  assert.ok(again.recovery.cleanShutdown)
  again.close()
}))

test('a second open of the same directory fails with locked', withDir((dir) => {
  const log = EventLog.open({ dataDir: dir })
  assert.throws(() => EventLog.open({ dataDir: dir }), (e: unknown) => e instanceof EventLogError && e.reason === 'locked')
  log.close()
}))

test('takedown: replay skips at once, maintenance scrubs, the set persists', withDir(async (dir) => {
  const log = EventLog.open({ dataDir: dir, segmentMaxRecords: 10, replayWindowMs: 0 })
  appendRange(log, 40, 1000, 4)
  const taken = 'did:plc:account1'
  assert.deepEqual(log.takedown(taken), { ok: true, changed: true })
  assert.ok(log.isTakenDown(taken))
  const kept = Array.from({ length: 40 }, (_, i) => i + 1).filter((s) => s % 4 !== 1)
  assert.deepEqual(readAll(log, 0), kept)
  const m = await log.maintain(2000)
  assert.ok(m.ok)
  assert.equal(m.recordsScrubbed, 8) // seqs 1..30 (sealed): 1, 5, …, 29
  assert.equal(log.stats().takedownRecordsScrubbed, 8)
  log.close()
  const again = EventLog.open({ dataDir: dir })
  assert.deepEqual(again.takedowns(), [taken])
  assert.deepEqual(readAll(again, 0), kept)
  again.close()
}))

test('retention by replay window through configure() and maintain()', withDir(async (dir) => {
  const log = EventLog.open({ dataDir: dir, segmentMaxRecords: 10, replayWindowMs: 0 })
  for (let k = 1; k <= 40; k++) appendRange(log, 1, k * 1000)
  assert.ok(log.configure({ replayWindowMs: 15_000 }).ok)
  const m = await log.maintain(40_001) // cutoff 25 001: segments ending at 10 s and 20 s go
  assert.equal(m.segmentsDeleted, 2)
  assert.deepEqual(log.oldest(), { seq: 21, timeMs: 21_000 })
  assert.equal(log.checkCursor(3), 'outdated')
  assert.equal(log.checkCursor(20), 'replay')
  assert.equal(log.checkCursor(40), 'replay')
  assert.equal(log.checkCursor(41), 'future')
  assert.deepEqual(readAll(log, 3), Array.from({ length: 20 }, (_, i) => 21 + i))
  log.close()
}))
