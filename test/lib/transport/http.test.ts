// Shared suite, every transport: the HTTP/1.1 front door. Requests that are not firehose
// upgrades reach the TypeScript router; every answer carries the Server header; malformed
// requests are refused without disturbing other clients.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { Router } from '../../../lib/http/router.js'
import { routes } from '../../../lib/routes/index.js'
import type { ConsumerInfo, Transport } from '../../../lib/transport/types.js'
import { exchange, get } from '../../helpers/raw-http.js'
import { transportVariants, until } from '../../helpers/transports.js'
import { RawConsumer } from '../../helpers/ws-consumer.js'

for (const v of transportVariants()) {
  describe(`http front door: ${v.name}`, { skip: v.skip }, () => {
    let transport: Transport
    let port: number
    const opened: ConsumerInfo[] = []

    before(async () => {
      transport = await v.create({ limits: { maxBodyBytes: 1024, maxHeaderBytes: 8 * 1024 } })
      const echo = new Router([
        ...routes,
        {
          method: 'POST',
          paths: ['/echo'],
          handle: async (req) => ({ status: 200, headers: { 'content-type': 'application/octet-stream', 'x-query': req.query }, body: req.body }),
        },
      ])
      ;({ port } = await transport.listen({ host: '127.0.0.1', port: 0, handler: echo.handle, onConsumerOpen: (i) => opened.push(i) }))
    })
    after(() => transport.close())

    test('GET /_health and /xrpc/_health answer {"status":"ok"} with the Server header', async () => {
      for (const path of ['/_health', '/xrpc/_health']) {
        const { responses } = await exchange(port, get(path))
        assert.equal(responses[0].status, 200)
        assert.deepEqual(JSON.parse(responses[0].body.toString()), { status: 'ok' })
        assert.match(responses[0].headers.server, /atproto-relay/)
        assert.match(responses[0].headers['content-type'], /application\/json/)
      }
    })

    test('keep-alive: several requests on one connection, bodies and queries passed through', async () => {
      const post = 'POST /echo?a=1&b=2 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello'
      const { responses, closed } = await exchange(port, get('/_health') + post + get('/nope'), 3)
      assert.deepEqual(responses.map((r) => r.status), [200, 200, 404])
      assert.equal(responses[1].body.toString(), 'hello')
      assert.equal(responses[1].headers['x-query'], 'a=1&b=2')
      assert.ok(responses.every((r) => /atproto-relay/.test(r.headers.server)))
      assert.equal(closed, false)
    })

    test('the firehose upgrade answers 101 with the Server header; a plain GET there gets 426', async () => {
      const c = await RawConsumer.connect({ port, path: '/xrpc/com.atproto.sync.subscribeRepos?cursor=42' })
      assert.match(c.headers.server, /atproto-relay/)
      await until(() => opened.some((o) => o.query === 'cursor=42'), 'consumer open with its query')
      c.socket.destroy()
      const { responses } = await exchange(port, get('/xrpc/com.atproto.sync.subscribeRepos'))
      assert.equal(responses[0].status, 426)
      assert.match(responses[0].headers.server, /atproto-relay/)
    })

    test('unknown XRPC methods get 501, unknown paths 404, wrong methods 405', async () => {
      const { responses } = await exchange(port, get('/xrpc/com.example.nothing') + get('/nothing') + 'POST /_health HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n', 3)
      assert.deepEqual(responses.map((r) => r.status), [501, 404, 405])
      assert.equal(JSON.parse(responses[0].body.toString()).error, 'MethodNotImplemented')
    })

    test('bodies over the limit get 413, headers over the limit 431', async () => {
      const big = await exchange(port, `POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n${'x'.repeat(5000)}`)
      assert.equal(big.responses[0]?.status, 413, big.raw)
      const huge = await exchange(port, get('/_health', `X-Big: ${'a'.repeat(10 * 1024)}\r\n`))
      assert.equal(huge.responses[0]?.status, 431, huge.raw)
    })

    test('malformed requests are refused while other clients keep being served', async () => {
      const received: Buffer[] = []
      const consumer = await RawConsumer.connect({ port, onMessage: (m) => received.push(m) })
      await until(() => opened.length >= 2, 'consumer open')
      // Conflicting Content-Length (request smuggling shape): 400 on every transport.
      const smuggle = await exchange(port, 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!')
      assert.equal(smuggle.responses[0]?.status, 400, smuggle.raw)
      // A request line that is not HTTP: the io_uring front door answers 400. uWebSockets.js
      // 20.30 answers nothing and drops the connection at its idle timeout (~10 s; see
      // lib/transport/uws.ts), so there the test checks that nothing was served.
      const garbage = await exchange(port, 'GARBAGE\x01\r\n\r\n', 1, 200, v.kind === 'uring' ? 5000 : 1000)
      if (v.kind === 'uring') assert.equal(garbage.responses[0]?.status, 400, garbage.raw)
      else assert.equal(garbage.raw, '')
      transport.broadcast([Buffer.from('still here')])
      await until(() => received.length === 1, 'frame after malformed requests')
      assert.equal(received[0].toString(), 'still here')
      const health = await exchange(port, get('/_health'))
      assert.equal(health.responses[0].status, 200)
      consumer.socket.destroy()
    })
  })
}
