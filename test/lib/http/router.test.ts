import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Router } from '../../../lib/http/router.js'
import { routes } from '../../../lib/routes/index.js'
import type { HttpRequest } from '../../../lib/transport/types.js'

function req(method: string, path: string): HttpRequest {
  return { method, path, query: '', headers: {}, body: Buffer.alloc(0), remoteAddress: '127.0.0.1' }
}

test('routes by exact path and method, counting each answer by route', async () => {
  const seen: [string, number][] = []
  const router = new Router(routes, (route, status) => seen.push([route, status]))
  const ok = await router.handle(req('GET', '/xrpc/_health'))
  assert.equal(ok.status, 200)
  assert.equal(ok.body, '{"status":"ok"}')
  assert.equal((await router.handle(req('GET', '/_health/'))).status, 404)
  assert.equal((await router.handle(req('GET', '/xrpc/com.atproto.sync.nothing'))).status, 501)
  const wrong = await router.handle(req('POST', '/_health'))
  assert.equal(wrong.status, 405)
  assert.equal(wrong.headers?.allow, 'GET')
  assert.deepEqual(seen, [['/xrpc/_health', 200], ['unmatched', 404], ['unmatched', 501], ['/_health', 405]])
})

test('a route that throws answers 500 with an XRPC error body', async () => {
  const router = new Router([{ method: 'GET', paths: ['/boom'], handle: () => { throw new Error('boom') } }])
  const res = await router.handle(req('GET', '/boom'))
  assert.equal(res.status, 500)
  assert.deepEqual(JSON.parse(String(res.body)), { error: 'InternalServerError', message: 'internal server error' })
})

test('two routes for the same method and path are refused', () => {
  const r = { method: 'GET' as const, paths: ['/x'], handle: () => ({ status: 200 }) }
  assert.throws(() => new Router([r, r]), /duplicate route GET \/x/)
})
