// Shared suite, every transport: upstream subscriptions. TLS against a local server whose
// certificate a test CA signed (trusted only through the extra CA, checked by hostname),
// fragmented and ping-interleaved messages arriving whole, and the 1009 close (counted by
// reason in the metrics) for a message over the limit.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { RelayMetrics } from '../../../lib/metrics.js'
import type { Transport, UpstreamCloseInfo, UpstreamOpenInfo, UpstreamOptions } from '../../../lib/transport/types.js'
import { RawWsServer } from '../../helpers/raw-ws-server.js'
import { createTestCa, type TestCa } from '../../helpers/test-ca.js'
import { transportVariants, until } from '../../helpers/transports.js'
import { closePayload, encodeFrame, Opcode } from '../../helpers/ws-frames.js'

interface Session {
  opened?: UpstreamOpenInfo
  messages: Buffer[]
  closed?: UpstreamCloseInfo
}

function subscribe(transport: Transport, opts: UpstreamOptions, metrics?: RelayMetrics): Session {
  const s: Session = { messages: [] }
  transport.connectUpstream(opts, {
    onOpen: (info) => (s.opened = info),
    onMessages: (batch) => s.messages.push(...batch),
    onClose: (info) => {
      s.closed = info
      metrics?.upstreamCloses.inc({ reason: info.error?.code ?? 'closed' })
    },
  })
  return s
}

const path = '/xrpc/com.atproto.sync.subscribeRepos?cursor=7'

for (const v of transportVariants()) {
  describe(`upstreams: ${v.name}`, { skip: v.skip }, () => {
    let ca: TestCa
    let tlsServer: RawWsServer
    let trusting: Transport
    let plain: Transport

    before(async () => {
      ca = createTestCa()
      tlsServer = await RawWsServer.start(ca.issue(['localhost', '127.0.0.1']), 'Server: test-pds (atproto-relay)\r\n')
      trusting = await v.create({ extraCaPem: ca.caPem })
      plain = await v.create()
    })
    after(async () => {
      await Promise.all([trusting.close(), plain.close(), tlsServer.close()])
    })

    test('wss:// with the test CA from --ca-file connects, with SNI and the URL path', async () => {
      const s = subscribe(trusting, { url: `wss://localhost:${tlsServer.port}${path}`, address: '127.0.0.1' })
      const peer = await tlsServer.nextPeer()
      assert.match(peer.request, /^GET \/xrpc\/com\.atproto\.sync\.subscribeRepos\?cursor=7 HTTP\/1\.1/)
      assert.match(peer.request, /^host: localhost:\d+$/im)
      assert.equal((peer.socket as import('node:tls').TLSSocket).servername, 'localhost')
      await until(() => s.opened !== undefined, 'open')
      assert.equal(s.opened?.status, 101)
      assert.match(s.opened?.headers.server ?? '', /atproto-relay/)
      peer.socket.write(encodeFrame(Opcode.binary, Buffer.from('over tls')))
      await until(() => s.messages.length === 1, 'message')
      assert.equal(s.messages[0].toString(), 'over tls')
      peer.socket.write(encodeFrame(Opcode.close, closePayload(1000, 'bye')))
      await until(() => s.closed !== undefined, 'close')
      assert.equal(s.closed?.code, 1000)
      assert.equal(s.closed?.error, undefined)
    })

    test('wss:// without the CA is refused: the certificate error reaches TypeScript', async () => {
      const s = subscribe(plain, { url: `wss://localhost:${tlsServer.port}${path}`, address: '127.0.0.1' })
      await until(() => s.closed !== undefined, 'close')
      assert.equal(s.opened, undefined)
      assert.equal(s.closed?.error?.code, 'cert_untrusted')
      assert.match(s.closed?.error?.message ?? '', /certificate|issuer/i)
    })

    test('wss:// to a name the certificate does not cover is refused', async () => {
      const s = subscribe(trusting, { url: `wss://wrong.test:${tlsServer.port}${path}`, address: '127.0.0.1' })
      await until(() => s.closed !== undefined, 'close')
      assert.equal(s.opened, undefined)
      assert.equal(s.closed?.error?.code, 'cert_hostname_mismatch')
      assert.match(s.closed?.error?.message ?? '', /wrong\.test/)
    })

    describe('ws:// framing', () => {
      let server: RawWsServer
      before(async () => {
        server = await RawWsServer.start()
      })
      after(() => server.close())

      test('fragmented messages with pings between the fragments arrive whole, pings answered', async () => {
        const s = subscribe(plain, { url: `ws://127.0.0.1:${server.port}${path}`, address: '127.0.0.1' })
        const peer = await server.nextPeer()
        await until(() => s.opened !== undefined, 'open')
        const big = randomBytes(300_000)
        peer.socket.write(
          Buffer.concat([
            encodeFrame(Opcode.binary, big.subarray(0, 1000), { fin: false }),
            encodeFrame(Opcode.ping, Buffer.from('p1')),
            encodeFrame(Opcode.continuation, big.subarray(1000, 200_000), { fin: false }),
            encodeFrame(Opcode.ping, Buffer.from('p2')),
            encodeFrame(Opcode.continuation, big.subarray(200_000), { fin: true }),
            encodeFrame(Opcode.binary, Buffer.from('second')),
          ]),
        )
        await until(() => s.messages.length === 2, 'messages')
        assert.ok(s.messages[0].equals(big))
        assert.equal(s.messages[1].toString(), 'second')
        await until(() => peer.frames.filter((f) => f.opcode === Opcode.pong).length === 2, 'pongs')
        assert.deepEqual(peer.frames.filter((f) => f.opcode === Opcode.pong).map((f) => f.payload.toString()), ['p1', 'p2'])
        // Client frames are masked (the reader unmasks them; a server must refuse unmasked ones).
        peer.socket.destroy()
        await until(() => s.closed !== undefined, 'close')
      })

      test('a message over the limit closes the upstream with 1009 and a counted reason', async () => {
        const metrics = new RelayMetrics()
        const s = subscribe(plain, { url: `ws://127.0.0.1:${server.port}${path}`, address: '127.0.0.1', maxMessageBytes: 100_000 }, metrics)
        const peer = await server.nextPeer()
        await until(() => s.opened !== undefined, 'open')
        peer.socket.write(encodeFrame(Opcode.binary, Buffer.from('fits')))
        // Over the limit only when the fragments are added up.
        peer.socket.write(encodeFrame(Opcode.binary, randomBytes(60_000), { fin: false }))
        peer.socket.write(encodeFrame(Opcode.continuation, randomBytes(60_000), { fin: true }))
        await until(() => s.closed !== undefined, 'close')
        assert.deepEqual(s.messages.map((m) => m.toString()), ['fits'])
        assert.equal(s.closed?.code, 1009)
        assert.equal(s.closed?.error?.code, 'message_too_big')
        await until(() => peer.frames.some((f) => f.opcode === Opcode.close), 'close frame sent upstream')
        assert.equal(peer.frames.find((f) => f.opcode === Opcode.close)?.payload.readUInt16BE(0), 1009)
        assert.match(await metrics.text(), /^relay_upstream_closes_total\{reason="message_too_big"\} 1$/m)
      })

      test('keepalive: pings every pingIntervalMs, and a peer that never answers is dropped', async () => {
        const s = subscribe(plain, { url: `ws://127.0.0.1:${server.port}${path}`, address: '127.0.0.1', pingIntervalMs: 100 })
        const peer = await server.nextPeer()
        await until(() => peer.frames.some((f) => f.opcode === Opcode.ping), 'a ping')
        // The raw server never answers pings and sends nothing else.
        await until(() => s.closed !== undefined, 'close after silence', 5_000)
        assert.ok(s.closed?.error !== undefined, 'the close says why')
      })

      test('the 5 MB default limit: 5,000,000 bytes pass, one more closes with 1009', async () => {
        const s = subscribe(plain, { url: `ws://127.0.0.1:${server.port}${path}`, address: '127.0.0.1' })
        const peer = await server.nextPeer()
        await until(() => s.opened !== undefined, 'open')
        peer.socket.write(encodeFrame(Opcode.binary, Buffer.alloc(5_000_000, 1)))
        peer.socket.write(encodeFrame(Opcode.binary, Buffer.alloc(5_000_001, 2)))
        await until(() => s.closed !== undefined, 'close', 20_000)
        assert.deepEqual(s.messages.map((m) => m.length), [5_000_000])
        assert.equal(s.closed?.code, 1009)
      })
    })
  })
}
