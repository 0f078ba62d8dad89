// Shared suite, every transport: broadcast reaches every consumer whole, in order and
// byte-exact; large frames arrive whole; a consumer that never reads is bounded, not
// buffered without limit.
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { describe, test } from 'node:test'
import { buildInfo } from '../../../lib/native.js'
import type { ConsumerCloseInfo, ConsumerInfo, Transport, TransportOptions } from '../../../lib/transport/types.js'
import { ConsumerSwarm } from '../../helpers/swarm.js'
import { transportVariants, until, type TransportVariant } from '../../helpers/transports.js'
import { RawConsumer } from '../../helpers/ws-consumer.js'

// Sizes from 1 B to 16 KB, log-uniform so small and large frames both occur often, with both
// ends present; contents random.
function mixedFrames(count: number): Buffer[] {
  const frames: Buffer[] = []
  for (let i = 0; i < count; i++) {
    const size = i === 0 ? 1 : i === 1 ? 16 * 1024 : Math.max(1, Math.round(Math.exp(Math.random() * Math.log(16 * 1024))))
    frames.push(randomBytes(size))
  }
  return frames
}

function digestOf(frames: Buffer[]): string {
  const h = createHash('sha256')
  const len = Buffer.alloc(4)
  for (const f of frames) {
    len.writeUInt32BE(f.length)
    h.update(len).update(f)
  }
  return h.digest('hex')
}

interface Running {
  transport: Transport
  port: number
  opened: ConsumerInfo[]
  closed: ConsumerCloseInfo[]
}

async function start(v: TransportVariant, opts: TransportOptions = {}): Promise<Running> {
  const transport = await v.create(opts)
  assert.equal(transport.kind, v.kind)
  const opened: ConsumerInfo[] = []
  const closed: ConsumerCloseInfo[] = []
  const { port } = await transport.listen({
    host: '127.0.0.1',
    port: 0,
    handler: () => ({ status: 404 }),
    onConsumerOpen: (info) => opened.push(info),
    onConsumerClose: (info) => closed.push(info),
  })
  return { transport, port, opened, closed }
}

for (const v of transportVariants()) {
  describe(`fan-out: ${v.name}`, { skip: v.skip }, () => {
    test('1,000 consumers each receive 200 mixed-size frames, in order, byte-exact', async () => {
      const r = await start(v)
      const swarm = await ConsumerSwarm.start(r.port, 1000, 200)
      try {
        await until(() => r.opened.length === 1000, 'consumers open')
        const frames = mixedFrames(200)
        for (let i = 0; i < frames.length; i += 25) r.transport.broadcast(frames.slice(i, i + 25))
        const result = await swarm.done(120_000)
        assert.deepEqual(result.failures, [])
        assert.deepEqual(result.digests, { [digestOf(frames)]: 1000 })
        assert.equal(r.transport.stats().consumers, 1000)
      } finally {
        swarm.stop()
        await r.transport.close()
      }
    })

    test('2 MB and 5 MB frames reach a few consumers whole', async () => {
      const r = await start(v)
      const got: Buffer[][] = [[], [], []]
      const consumers = await Promise.all(got.map((list) => RawConsumer.connect({ port: r.port, onMessage: (m) => list.push(m) })))
      try {
        await until(() => r.opened.length === 3, 'consumers open')
        const frames = [randomBytes(2 * 1024 * 1024), randomBytes(5 * 1000 * 1000)]
        r.transport.broadcast(frames)
        await until(() => got.every((list) => list.length === 2), 'large frames', 30_000)
        for (const list of got) assert.deepEqual(list.map(digestOf1), frames.map(digestOf1))
      } finally {
        for (const c of consumers) c.socket.destroy()
        await r.transport.close()
      }
    })

    test('a consumer that never reads stays within its send-queue bound while others are served', async (t) => {
      const queueBytes = 4 * 1024 * 1024
      const r = await start(v, { limits: { consumerSendQueueBytes: queueBytes } })
      const stalled = await RawConsumer.connect({ port: r.port })
      stalled.socket.pause()
      const frames = [0, 1, 2, 3].map(() => randomBytes(256 * 1024))
      const rounds = 160 // 160 × 4 × 256 KB = 160 MB
      const reader = await ConsumerSwarm.start(r.port, 1, rounds * frames.length, frames.length)
      try {
        await until(() => r.opened.length === 2, 'consumers open')
        global.gc?.()
        const rssBefore = process.memoryUsage().rss
        let maxQueued = 0
        let maxRss = 0
        for (let i = 0; i < rounds; i++) {
          // The reading consumer is kept within two batches (well inside its bound), so
          // only the stalled one can be over.
          await until(() => reader.progress >= (i - 2) * frames.length, 'reader progress', 30_000)
          r.transport.broadcast(frames)
          maxQueued = Math.max(maxQueued, r.transport.stats().queuedSendBytes)
          maxRss = Math.max(maxRss, process.memoryUsage().rss)
        }
        const result = await reader.done(60_000)
        assert.deepEqual(result.failures, [])
        assert.deepEqual(result.digests, { [digestOf(Array.from({ length: rounds }, () => frames).flat())]: 1 })
        // Both consumers' queues together, each at most its bound plus one send batch.
        assert.ok(maxQueued <= 2 * (queueBytes + 1024 * 1024), `queued ${maxQueued} bytes`)
        const growth = maxRss - rssBefore
        t.diagnostic(`max queued ${(maxQueued / 1048576).toFixed(1)} MB, RSS growth ${(growth / 1048576).toFixed(1)} MB`)
        // Unbounded, the stalled consumer alone would pin ~150 MB. The margin below covers
        // Buffers the garbage collector has not reclaimed yet (V8 collects them on external-
        // memory pressure, not at once). Under ASan freed memory sits in the allocator's
        // quarantine (256 MB by default), so RSS says nothing there; the queued-bytes bound
        // above still holds.
        if (buildInfo().flavour !== 'asan') {
          assert.ok(growth < 80 * 1024 * 1024, `RSS grew ${(growth / 1048576).toFixed(1)} MB while 160 MB were broadcast`)
        }
        // The core's policy: over its bound, the stalled consumer is dropped as too slow.
        await until(() => r.closed.some((c) => c.reason === 'too_slow'), 'too_slow close', 15_000)
      } finally {
        reader.stop()
        stalled.socket.destroy()
        await r.transport.close()
      }
    })

    test('a consumer message over the limit closes it with 1009, reason message_too_big', async () => {
      const r = await start(v, { limits: { maxConsumerMessageBytes: 1024 } })
      const c = await RawConsumer.connect({ port: r.port })
      await until(() => r.opened.length === 1, 'consumer open')
      c.send(2, randomBytes(1500))
      const info = await c.closed
      assert.equal(info.code, 1009)
      await until(() => r.closed.length === 1, 'close reported')
      assert.equal(r.closed[0].reason, 'message_too_big')
      await r.transport.close()
    })
  })
}

function digestOf1(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex')
}
