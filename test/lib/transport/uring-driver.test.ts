// io_uring driver specifics (the shared suites in this directory cover the Transport
// contract): the setup-failure hook, both event bridges, many connections at once, partial
// sends to a slow reader, receive buffers running out and coming back, HTTP pipelining with
// handlers that finish out of order, half-closed clients, and a clean stop.
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { connect } from 'node:net'
import { describe, test } from 'node:test'
import type { ConsumerCloseInfo, ConsumerInfo, HttpRequest, HttpResponse, RequestHandler } from '../../../lib/transport/types.js'
import { createUringTransport, probeUring, UringUnavailableError, type UringTransport, type UringTransportOptions } from '../../../lib/transport/uring.js'
import { exchange, get } from '../../helpers/raw-http.js'
import { until } from '../../helpers/transports.js'
import { RawConsumer } from '../../helpers/ws-consumer.js'

const probe = probeUring()
const skip = probe.ok ? false : `io_uring unavailable here: ${probe.code ?? '?'}: ${probe.message}`

interface Server {
  transport: UringTransport
  port: number
  opened: ConsumerInfo[]
  closed: ConsumerCloseInfo[]
}

async function serve(opts: UringTransportOptions = {}, handler: RequestHandler = echoHandler): Promise<Server> {
  const transport = createUringTransport(opts)
  const opened: ConsumerInfo[] = []
  const closed: ConsumerCloseInfo[] = []
  const { port } = await transport.listen({
    host: '127.0.0.1',
    port: 0,
    handler,
    onConsumerOpen: (i) => opened.push(i),
    onConsumerClose: (i) => closed.push(i),
  })
  return { transport, port, opened, closed }
}

function echoHandler(req: HttpRequest): HttpResponse {
  return { status: 200, headers: { 'content-type': 'application/octet-stream', 'x-path': req.path }, body: req.body.length > 0 ? req.body : `${req.method} ${req.path}` }
}

function withFailure<T>(code: string, fn: () => T): T {
  const saved = process.env.RINGLAY_URING_FAIL
  process.env.RINGLAY_URING_FAIL = code
  try {
    return fn()
  } finally {
    if (saved === undefined) delete process.env.RINGLAY_URING_FAIL
    else process.env.RINGLAY_URING_FAIL = saved
  }
}

describe('io_uring driver', () => {
  test('RINGLAY_URING_FAIL: probe and setup fail with that errno, without touching the kernel', () => {
    for (const [code, errno] of [['EPERM', 1], ['ENOSYS', 38], ['EINVAL', 22]] as const) {
      const p = withFailure(code, () => probeUring())
      assert.equal(p.ok, false)
      assert.equal(p.code, code)
      assert.equal(p.errno, errno)
      assert.match(p.message, new RegExp(`^io_uring_setup failed: ${code} \\(`))
      const err = withFailure(code, () => {
        try {
          createUringTransport()
        } catch (e) {
          return e
        }
        return undefined
      })
      assert.ok(err instanceof UringUnavailableError, `${code}: ${String(err)}`)
      assert.equal(err.code, code)
      assert.equal(err.errno, errno)
    }
    assert.match(withFailure('EPERM', () => probeUring()).message, /seccomp or kernel\.io_uring_disabled/)
  })

  test('the probe names the ring mode when io_uring works', { skip }, () => {
    assert.equal(probe.ok, true)
    assert.match(probe.mode ?? '', /^(single_issuer_defer_taskrun|coop_taskrun|plain)$/)
  })

  for (const bridge of ['tsfn', 'uvpoll'] as const) {
    test(`bridge ${bridge}: requests reach async handlers and answers come back`, { skip }, async () => {
      const saved = process.env.RINGLAY_BRIDGE
      delete process.env.RINGLAY_BRIDGE
      const s = await serve({ bridge }, async (req) => {
        await new Promise((r) => setTimeout(r, 1))
        return echoHandler(req)
      })
      if (saved !== undefined) process.env.RINGLAY_BRIDGE = saved
      try {
        assert.equal(s.transport.bridge, bridge)
        const r = await fetch(`http://127.0.0.1:${s.port}/x?y=1`)
        assert.equal(r.status, 200)
        assert.equal(await r.text(), 'GET /x')
        assert.match(r.headers.get('server') ?? '', /atproto-relay/)
      } finally {
        await s.transport.close()
      }
    })
  }

  test('many connections: 300 consumers and 200 HTTP clients at once, all served and released', { skip }, async () => {
    const s = await serve()
    try {
      const got = new Map<number, Buffer[]>()
      const consumers = await Promise.all(
        Array.from({ length: 300 }, (_, i) => RawConsumer.connect({ port: s.port, onMessage: (p) => got.set(i, [...(got.get(i) ?? []), p]) })),
      )
      const requests = Promise.all(Array.from({ length: 200 }, (_, i) => exchange(s.port, get(`/r${i}`), 1, 0)))
      await until(() => s.opened.length === 300, 'consumers open')
      const frames = [randomBytes(10), randomBytes(70_000), randomBytes(3)]
      s.transport.broadcast(frames)
      const answers = await requests
      assert.ok(answers.every((a, i) => a.responses[0]?.status === 200 && a.responses[0].body.toString() === `GET /r${i}`))
      await until(() => [...got.values()].filter((m) => m.length === 3).length === 300, 'frames at every consumer')
      for (const m of got.values()) assert.ok(m.every((p, k) => p.equals(frames[k])))
      assert.ok(s.transport.stats().connectionsOpen >= 300)
      for (const c of consumers) c.close()
      await until(() => s.closed.length === 300, 'consumer closes reported')
      await until(() => s.transport.stats().connectionsOpen === 0 && s.transport.stats().consumers === 0, 'connections released')
      assert.ok(s.closed.every((c) => c.reason === 'peer_closed' && c.code === 1000))
    } finally {
      await s.transport.close()
    }
  })

  test('partial sends: a slow reader receives 24 MB byte-exact', { skip }, async () => {
    const s = await serve({ limits: { consumerSendQueueBytes: 64 * 1024 * 1024 } })
    try {
      const hash = createHash('sha256')
      let received = 0
      const c = await RawConsumer.connect({
        port: s.port,
        onMessage: (p) => {
          hash.update(p)
          received += p.length
        },
      })
      // Read in short bursts with pauses, so the socket buffer fills and sends come back short.
      const pacer = setInterval(() => {
        c.socket.pause()
        setTimeout(() => c.socket.resume(), 5)
      }, 10)
      await until(() => s.opened.length === 1, 'consumer open')
      const frames = Array.from({ length: 96 }, () => randomBytes(256 * 1024))
      const expected = createHash('sha256')
      for (const f of frames) expected.update(f)
      for (let i = 0; i < frames.length; i += 8) s.transport.broadcast(frames.slice(i, i + 8))
      await until(() => received === 96 * 256 * 1024, 'all bytes', 30_000)
      clearInterval(pacer)
      assert.equal(hash.digest('hex'), expected.digest('hex'))
      assert.ok(s.transport.stats().partialSends > 0, 'some sends were partial')
      c.socket.destroy()
    } finally {
      await s.transport.close()
    }
  })

  test('receive buffers run out (ENOBUFS) and come back: every upload is echoed whole', { skip }, async () => {
    const s = await serve({ bufferCount: 4, bufferSize: 4096, limits: { maxBodyBytes: 128 * 1024 } })
    try {
      const bodies = Array.from({ length: 40 }, () => randomBytes(64 * 1024))
      const answers = await Promise.all(
        bodies.map((b) => exchange(s.port, Buffer.concat([Buffer.from(`POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: ${b.length}\r\n\r\n`), b]), 1, 0, 20_000)),
      )
      answers.forEach((a, i) => {
        assert.equal(a.responses[0]?.status, 200)
        assert.ok(a.responses[0].body.equals(bodies[i]), `body ${i}`)
      })
      assert.ok(s.transport.stats().recvEnobufs > 0, 'the buffer ring ran dry at least once')
    } finally {
      await s.transport.close()
    }
  })

  test('pipelined requests are answered in order even when handlers finish out of order', { skip }, async () => {
    const s = await serve({}, async (req) => {
      await new Promise((r) => setTimeout(r, req.path === '/slow' ? 50 : 1))
      return echoHandler(req)
    })
    try {
      const { responses, closed } = await exchange(s.port, get('/slow') + get('/fast') + get('/slow') + get('/fast'), 4)
      assert.deepEqual(responses.map((r) => r.headers['x-path']), ['/slow', '/fast', '/slow', '/fast'])
      assert.equal(closed, false)
    } finally {
      await s.transport.close()
    }
  })

  test('a client that half-closes after its request still gets the answer', { skip }, async () => {
    const s = await serve()
    try {
      const body = await new Promise<string>((resolve, reject) => {
        const sock = connect(s.port, '127.0.0.1', () => sock.end(get('/half')))
        let buf = ''
        sock.on('data', (d) => (buf += d.toString()))
        sock.on('end', () => resolve(buf))
        sock.on('error', reject)
      })
      assert.match(body, /^HTTP\/1\.1 200 /)
      assert.match(body, /GET \/half$/)
    } finally {
      await s.transport.close()
    }
  })

  test('close(): consumers get 1001, upstreams hear onClose once, the thread stops, a second close() resolves', { skip }, async () => {
    const s = await serve()
    const c = await RawConsumer.connect({ port: s.port })
    await until(() => s.opened.length === 1, 'consumer open')
    // An upstream to our own firehose endpoint: a WebSocket server that never sends.
    const closes: unknown[] = []
    let opened = false
    s.transport.connectUpstream(
      { url: `ws://127.0.0.1:${s.port}/xrpc/com.atproto.sync.subscribeRepos`, address: '127.0.0.1' },
      { onOpen: () => (opened = true), onMessages: () => {}, onClose: (info) => closes.push(info) },
    )
    await until(() => opened, 'upstream open')
    await s.transport.close()
    assert.equal((await c.closed).code, 1001)
    assert.equal(closes.length, 1)
    await s.transport.close()
    assert.equal(closes.length, 1)
    assert.equal(s.transport.stats().connectionsOpen, 0)
  })
})
