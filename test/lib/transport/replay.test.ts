// Shared suite, every transport: subscribeRepos cursors and disk catch-up (issue #4) against a
// real event log. The test is the relay's writer: it appends frames to the log, then publishes
// them through the transport's publish path with their relay seqs (write before publish, as the
// pipeline does). Consumers with no cursor / cursor 0 / a middle cursor / the head / an outdated
// cursor / a future cursor / a bad cursor must get exactly the stream protocol.md §1.6 asks for,
// while publishing goes on; and a consumer that stops reading for a while falls back to disk,
// catches up and ends with every frame in order, byte-exact.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { EventLog } from '../../../lib/log/event-log.js'
import type { ConsumerCloseInfo, ConsumerInfo, Transport, TransportOptions } from '../../../lib/transport/types.js'
import { decodeFrame } from '../../helpers/atproto-json.js'
import { exchange } from '../../helpers/raw-http.js'
import { transportVariants, until, type TransportVariant } from '../../helpers/transports.js'
import { RawConsumer, type CloseInfo } from '../../helpers/ws-consumer.js'

const path = '/xrpc/com.atproto.sync.subscribeRepos'
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

// A frame's bytes: its seq in text (so a mix-up is visible), then random bytes of a varying
// size. Kept by seq: every stream is compared byte for byte against these.
class Relay {
  readonly frames = new Map<number, Buffer>()
  readonly opened: ConsumerInfo[] = []
  readonly closed: ConsumerCloseInfo[] = []
  port = 0

  constructor(
    readonly transport: Transport,
    readonly log: EventLog,
  ) {}

  static async start(v: TransportVariant, dir: string, opts: TransportOptions = {}, logOpts: { segmentMaxRecords?: number; replayWindowMs?: number } = {}): Promise<Relay> {
    const log = EventLog.open({ dataDir: dir, syncIntervalMs: 1000, ...logOpts })
    const r = new Relay(await v.create(opts), log)
    const { port } = await r.transport.listen({
      host: '127.0.0.1',
      port: 0,
      handler: () => ({ status: 404 }),
      onConsumerOpen: (info) => r.opened.push(info),
      onConsumerClose: (info) => r.closed.push(info),
    })
    r.port = port
    r.transport.setReplayLog(log.nativeHandle)
    return r
  }

  get head(): number {
    return this.log.writtenSeq()
  }

  // Appends `count` frames (received at `timeMs`), then publishes them with their seqs.
  publish(count: number, size = 2000, timeMs = Date.now(), publish = true): void {
    const first = this.log.nextSeq()
    const frames: Buffer[] = []
    for (let i = 0; i < count; i++) {
      const seq = first + i
      const f = Buffer.concat([Buffer.from(`seq:${seq}:`), randomBytes(1 + ((seq * 7919) % size))])
      frames.push(f)
      this.frames.set(seq, f)
    }
    const r = this.log.append(frames, frames.map((_, i) => `did:plc:acct${(first + i) % 7}`), timeMs)
    assert.ok(r.ok, r.reason)
    assert.equal(r.firstSeq, first)
    if (publish) this.transport.broadcast(frames, frames.map((_, i) => first + i))
  }

  // Publishes in the background until stopped: hand-offs happen while frames keep coming.
  keepPublishing(everyMs = 3, count = 3): () => Promise<void> {
    let on = true
    const loop = (async () => {
      while (on) {
        this.publish(count)
        await sleep(everyMs)
      }
    })()
    return async () => {
      on = false
      await loop
    }
  }

  async close(): Promise<void> {
    await this.transport.close()
    this.log.close()
  }
}

// A consumer that records every message, and can stop reading (its socket paused: the kernel
// buffers fill, then the relay's sends stall).
class Consumer {
  readonly messages: Buffer[] = []
  private constructor(readonly raw: RawConsumer) {}

  static async connect(port: number, cursor?: number | string): Promise<Consumer> {
    let self: Consumer | undefined
    const pending: Buffer[] = []
    const raw = await RawConsumer.connect({
      port,
      path: cursor === undefined ? path : `${path}?cursor=${cursor}`,
      onMessage: (m) => (self === undefined ? pending.push(m) : self.messages.push(m)),
    })
    self = new Consumer(raw)
    self.messages.push(...pending)
    return self
  }

  // Frames that are not relay messages (#info, error frames) start with a CBOR map byte; ours
  // start with "seq:".
  seqs(): number[] {
    return this.messages.filter((m) => m.subarray(0, 4).toString() === 'seq:').map((m) => Number(m.toString('latin1', 4, 24).split(':')[0]))
  }

  lastSeq(): number {
    const s = this.seqs()
    return s.length === 0 ? 0 : s[s.length - 1]
  }

  close(): void {
    if (!this.raw.socket.destroyed) this.raw.close()
  }
}

// `c` got exactly the frames with seq in (after, last], byte-exact, after `skip` messages.
function assertStream(r: Relay, c: Consumer, after: number, last: number, what: string, skip = 0): void {
  const got = c.messages.slice(skip)
  const want: number[] = []
  for (let s = after + 1; s <= last; s++) want.push(s)
  assert.deepEqual(c.seqs().slice(0, want.length + 5), want.slice(0, want.length + 5), `${what}: seqs`)
  assert.equal(got.length, want.length, `${what}: message count`)
  got.forEach((m, i) => assert.ok(m.equals(r.frames.get(want[i])!), `${what}: bytes of seq ${want[i]}`))
}

function withDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'ringlay-replay-'))
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) }
}

const smallLimits: TransportOptions = {
  // A small bound and small log reads, so a few MB are enough to push consumers to disk and
  // make them read many chunks.
  limits: { consumerSendQueueBytes: 256 * 1024, catchUpReadBytes: 32 * 1024 },
}

for (const v of transportVariants()) {
  describe(`cursor replay and catch-up: ${v.name}`, { skip: v.skip }, () => {
    let tmp: { dir: string; remove: () => void }
    let r: Relay
    const consumers: Consumer[] = []
    const connect = async (cursor?: number | string): Promise<Consumer> => {
      const c = await Consumer.connect(r.port, cursor)
      consumers.push(c)
      return c
    }
    const reaches = (c: Consumer, seq: number, what: string): Promise<void> => until(() => c.lastSeq() >= seq, `${what} to reach seq ${seq} (at ${c.lastSeq()})`, 30_000)

    before(async () => {
      tmp = withDir()
      r = await Relay.start(v, tmp.dir, smallLimits)
      r.publish(600) // history: ~600 KB, far more than the in-memory window keeps
    })

    after(async () => {
      for (const c of consumers) c.close()
      await r?.close()
      tmp?.remove()
    })

    test('no cursor, cursor 0, middle cursors and the head: exact streams while publishing goes on', async () => {
      const head0 = r.head
      const live = await connect()
      await until(() => r.opened.length >= 1, 'the live consumer to open')
      const stop = r.keepPublishing()
      const whole = await connect(0)
      const middles: { c: Consumer; cursor: number }[] = []
      for (const cursor of [1, 150, 399, head0 - 3]) middles.push({ c: await connect(cursor), cursor })
      const headCursor = r.head
      const atHead = await connect(headCursor)
      await sleep(300)
      await stop()
      const last = r.head
      for (const c of [live, whole, atHead, ...middles.map((m) => m.c)]) await reaches(c, last, 'a consumer')
      await sleep(100) // a duplicate at the tail would arrive now
      assert.ok(live.seqs()[0] > head0, 'no cursor: live, nothing from before it connected')
      assertStream(r, live, live.seqs()[0] - 1, last, 'no cursor')
      assertStream(r, whole, 0, last, 'cursor 0')
      for (const { c, cursor } of middles) assertStream(r, c, cursor, last, `cursor ${cursor}`)
      assertStream(r, atHead, headCursor, last, 'cursor = head')
      const starts = r.opened.map((o) => o.start)
      assert.ok(starts.includes('live') && starts.includes('replay'), `ConsumerInfo.start (${starts.join()})`)
      const st = r.transport.stats()
      assert.ok(st.catchUpReads > 0 && st.catchUpBytesRead > 500_000, `replays read the log (${st.catchUpReads} reads, ${st.catchUpBytesRead} bytes)`)
      assert.ok(st.catchUpHandoffs >= 5, `every replay handed off to live (${st.catchUpHandoffs})`)
      assert.equal(st.cursorReplay, 6)
      assert.equal(st.tooSlowLag + st.tooSlowGap + st.tooSlowQueue, 0)
    })

    test('a cursor ahead of the head gets FutureCursor, then close 1008', async () => {
      for (const cursor of [r.head + 1, r.head + 1_000_000]) {
        const c = await connect(cursor)
        const info: CloseInfo = await c.raw.closed
        assert.equal(c.messages.length, 1, `cursor ${cursor}: one message, the error frame`)
        const { header, body } = decodeFrame(c.messages[0])
        assert.equal(header.op, -1)
        assert.equal(body.error, 'FutureCursor')
        assert.equal(info.code, 1008)
        assert.equal(info.reason, 'FutureCursor')
      }
      await until(() => r.closed.filter((x) => x.reason === 'future_cursor').length === 2, 'two future_cursor closes reported')
      assert.equal(r.transport.stats().cursorFuture, 2)
    })

    test('a cursor that is not a non-negative integer gets HTTP 400 before the upgrade', async () => {
      const opened = r.opened.length
      for (const cursor of ['abc', '-1', '1.5', '%2D3', '99999999999999999999999']) {
        const ex = await exchange(
          r.port,
          `GET ${path}?cursor=${cursor} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
        )
        assert.equal(ex.responses.length, 1, `cursor=${cursor}: ${ex.raw}`)
        assert.equal(ex.responses[0].status, 400, `cursor=${cursor}`)
        const body = JSON.parse(ex.responses[0].body.toString()) as { error: string; message: string }
        assert.equal(body.error, 'BadRequest')
        assert.match(body.message, /cursor/)
      }
      assert.equal(r.opened.length, opened, 'no consumer opened')
      assert.equal(r.transport.stats().cursorBad, 5)
      // An empty cursor is no cursor (as indigo reads it).
      const c = await connect('')
      r.publish(2)
      await reaches(c, r.head, 'the empty-cursor consumer')
      assert.equal(c.seqs().length, 2)
    })

    test('once a replay log is set, published frames must carry increasing relay seqs', () => {
      const f = Buffer.from('seq:0:x')
      assert.throws(() => r.transport.broadcast([f]), /seqs/)
      assert.throws(() => r.transport.broadcast([f], [r.head]), /seqs/) // not above the newest
      assert.throws(() => r.transport.broadcast([f, f], [r.head + 2, r.head + 1]), /seqs/)
      assert.throws(() => r.transport.broadcast([f, f], [r.head + 1]), /seqs/) // one per frame
    })

    test('a consumer that stops reading falls back to disk, catches up, and gets every frame', async () => {
      const start = r.head
      const slow = await connect()
      const fast = await connect()
      await until(() => r.opened.length >= consumers.length, 'consumers open')
      slow.raw.socket.pause()
      // ~6 MB while it does not read: far over its 256 KB bound.
      for (let i = 0; i < 30; i++) {
        r.publish(100, 4000)
        await sleep(5)
      }
      await until(() => r.transport.stats().catchUpFallbacks >= 1, 'the stalled consumer to fall back to disk')
      const st = r.transport.stats()
      assert.ok(st.queuedSendBytes < 3 * 1024 * 1024, `a stalled consumer does not pin the window (${st.queuedSendBytes} bytes queued)`)
      slow.raw.socket.resume()
      const stop = r.keepPublishing(5, 5)
      await reaches(slow, r.head - 20, 'the slow consumer')
      await stop()
      const last = r.head
      await reaches(slow, last, 'the slow consumer')
      await reaches(fast, last, 'the fast consumer')
      await sleep(100)
      const first = slow.seqs()[0]
      assert.ok(first > start && first <= start + 100, 'it started live')
      assertStream(r, slow, first - 1, last, 'slow consumer')
      assertStream(r, fast, fast.seqs()[0] - 1, last, 'fast consumer')
      const end = r.transport.stats()
      assert.ok(end.catchUpFallbacks >= 1 && end.catchUpHandoffs > st.catchUpHandoffs, `it rejoined live (${JSON.stringify({ fallbacks: end.catchUpFallbacks, handoffs: end.catchUpHandoffs })})`)
      assert.equal(end.tooSlowEvictions ?? 0, 0, 'nobody was evicted')
      assert.equal(end.consumersCatchingUp, 0)
      assert.equal(r.closed.filter((x) => x.reason === 'too_slow').length, 0)
    })
  })

  describe(`an outdated cursor: ${v.name}`, { skip: v.skip }, () => {
    test('#info OutdatedCursor first, then the whole window; cursor 0 gets the window without #info', async () => {
      const tmp = withDir()
      const r = await Relay.start(v, tmp.dir, smallLimits, { segmentMaxRecords: 20, replayWindowMs: 60_000 })
      const consumers: Consumer[] = []
      try {
        // 100 frames received an hour ago (5 segments), written but never published live.
        r.publish(100, 2000, Date.now() - 3_600_000, false)
        r.publish(20, 2000, Date.now() - 3_600_000, false) // the sealed tail segment: old too
        const m = await r.log.maintain()
        assert.ok(m.ok && m.segmentsDeleted >= 5, `retention deleted old segments (${JSON.stringify(m)})`)
        r.publish(50)
        const oldest = r.log.oldest().seq
        assert.ok(oldest > 10, `the window starts at ${oldest}`)
        const outdated = await Consumer.connect(r.port, 5)
        const whole = await Consumer.connect(r.port, 0)
        const inside = await Consumer.connect(r.port, oldest - 1) // nothing it asked for is gone
        consumers.push(outdated, whole, inside)
        r.publish(10)
        const last = r.head
        for (const c of consumers) await until(() => c.lastSeq() >= last, 'replay to reach the head', 30_000)
        await sleep(100)
        const info = decodeFrame(outdated.messages[0])
        assert.equal(info.header.t, '#info')
        assert.equal(info.header.op, 1)
        assert.equal(info.body.name, 'OutdatedCursor')
        assertStream(r, outdated, oldest - 1, last, 'outdated cursor', 1)
        assertStream(r, whole, oldest - 1, last, 'cursor 0')
        assertStream(r, inside, oldest - 1, last, 'cursor just before the oldest')
        const st = r.transport.stats()
        assert.equal(st.cursorOutdated, 1)
        assert.equal(st.cursorReplay, 2)
        assert.deepEqual(r.opened.map((o) => o.start), ['outdated', 'replay', 'replay'])
      } finally {
        for (const c of consumers) c.close()
        await r.close()
        tmp.remove()
      }
    })
  })
}
