// requestCrawl, admin and public, through the real router, real SQLite, a real host manager
// on the uWebSockets.js transport, and the fake PDS (a real HTTP + WebSocket server).
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openStateDb } from '../../../lib/db/database.js'
import { AdminAuth } from '../../../lib/http/admin-auth.js'
import { Router } from '../../../lib/http/router.js'
import { setLogSink } from '../../../lib/logger.js'
import { RelayMetrics } from '../../../lib/metrics.js'
import { backoffDefaults } from '../../../lib/relay/backoff.js'
import { Crawler } from '../../../lib/relay/crawl.js'
import { CursorTracker } from '../../../lib/relay/cursors.js'
import { HostManager } from '../../../lib/relay/hosts.js'
import { adminRequestCrawl } from '../../../lib/routes/admin.pds.requestCrawl.js'
import { requestCrawl } from '../../../lib/routes/com.atproto.sync.requestCrawl.js'
import { createUwsTransport } from '../../../lib/transport/select.js'
import type { HttpRequest } from '../../../lib/transport/types.js'
import { FakePds } from '../../helpers/fake-pds.js'
import { counter } from './policy-harness.js'

setLogSink(() => {})
const dir = mkdtempSync(join(tmpdir(), 'ringlay-crawl-'))
const cleanups: (() => Promise<void> | void)[] = []
after(async () => {
  for (const c of cleanups.reverse()) await c()
  rmSync(dir, { recursive: true, force: true })
})

let n = 0
async function relay(opts: { allowInsecureHosts?: boolean; newHostsPerDayLimit?: number } = {}) {
  const state = openStateDb({ dataDir: join(dir, `db${n++}`) })
  const transport = await createUwsTransport({})
  const metrics = new RelayMetrics()
  const allowInsecureHosts = opts.allowInsecureHosts ?? true
  const hosts = new HostManager(
    { state, cursors: new CursorTracker(), metrics, connect: (o, _id, h) => transport.connectUpstream(o, { ...h, onMessages: () => {} }) },
    { allowInsecureHosts, backoff: { ...backoffDefaults, baseMs: 50 } },
  )
  const crawler = new Crawler(state, hosts, {
    allowInsecureHosts, defaultAccountLimit: 7, newHostsPerDayLimit: opts.newHostsPerDayLimit ?? 50, userAgent: 'test', checkTimeoutMs: 2_000,
  })
  const observe = (result: string): void => metrics.crawlRequests.inc({ result })
  const router = new Router([adminRequestCrawl({ crawler, auth: new AdminAuth('s3cret'), observe }), requestCrawl({ crawler, observe })])
  cleanups.push(async () => {
    hosts.close()
    await transport.close()
    state.close()
  })
  return { state, hosts, metrics, router }
}

function post(path: string, body: unknown, auth?: string): HttpRequest {
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (auth !== undefined) headers.authorization = `Basic ${Buffer.from(auth).toString('base64')}`
  return { method: 'POST', path, query: '', headers, body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)), remoteAddress: '127.0.0.1' }
}
const admin = (hostname: unknown, auth = 'admin:s3cret') => post('/admin/pds/requestCrawl', { hostname }, auth)
const pub = (hostname: unknown) => post('/xrpc/com.atproto.sync.requestCrawl', { hostname })

async function pds(): Promise<FakePds> {
  const p = await FakePds.start()
  cleanups.push(() => p.close())
  return p
}

function bodyOf(res: { body?: string | Buffer }): Record<string, unknown> {
  return JSON.parse(String(res.body)) as Record<string, unknown>
}

test('admin requestCrawl needs HTTP Basic admin:<password>', async () => {
  const r = await relay()
  for (const auth of [undefined, 'admin:wrong', 'root:s3cret', 'admin:s3cret2', 'admin:']) {
    const res = await r.router.handle(post('/admin/pds/requestCrawl', { hostname: 'localhost:1' }, auth))
    assert.equal(res.status, 401, String(auth))
    assert.equal(res.headers?.['www-authenticate'], 'Basic realm="admin"')
  }
  assert.equal(r.state.hosts.list({ limit: 10 }).length, 0)
})

test('admin requestCrawl checks describeServer, stores the host and starts its subscription; 200 {}', async () => {
  const p = await pds()
  const r = await relay()
  const res = await r.router.handle(admin(p.hostname))
  assert.equal(res.status, 200, String(res.body))
  assert.deepEqual(bodyOf(res), {})
  assert.ok(p.requests.includes('GET /xrpc/com.atproto.server.describeServer'))
  const conn = await p.waitForSubscriber(5_000)
  assert.equal(conn.cursor, undefined, 'a new host starts live')
  const host = r.state.hosts.byHostname(p.hostname)
  assert.deepEqual([host?.status, host?.accountLimit, host?.noTls], ['active', 7, true])
  // Already subscribed: success without asking again.
  const checks = p.requests.length
  assert.equal((await r.router.handle(admin(p.hostname))).status, 200)
  assert.equal(p.requests.length, checks)
  assert.equal(await counter(r.metrics, 'relay_crawl_requests_total', { result: 'ok' }), 2)
})

test('bad hostnames get 400 naming why', async () => {
  const r = await relay()
  const cases: [unknown, RegExp][] = [
    [undefined, /hostname is required/],
    ['127.0.0.1', /not a public hostname/],
    ['pds.example.com:8080', /port number not allowed/],
    ['ftp://pds.example.com', /unsupported URL scheme/],
    ['localhost', /port number is required/],
  ]
  for (const [hostname, why] of cases) {
    const res = await r.router.handle(admin(hostname))
    assert.equal(res.status, 400, String(hostname))
    assert.equal(bodyOf(res).error, 'InvalidRequest')
    assert.match(String(bodyOf(res).message), why)
  }
  const notJson = await r.router.handle(post('/admin/pds/requestCrawl', '{nope', 'admin:s3cret'))
  assert.equal(notJson.status, 400)
})

test('localhost:PORT only for the admin and only with --allow-insecure-hosts', async () => {
  const p = await pds()
  const r = await relay()
  const res = await r.router.handle(pub(p.hostname))
  assert.equal(res.status, 400)
  assert.match(String(bodyOf(res).message), /only be added by the admin/)
  const strict = await relay({ allowInsecureHosts: false })
  const res2 = await strict.router.handle(admin(p.hostname))
  assert.equal(res2.status, 400)
  assert.match(String(bodyOf(res2).message), /--allow-insecure-hosts/)
  assert.equal(p.requests.length, 0, 'never contacted')
})

test('a host that does not answer describeServer is HostNotFound', async () => {
  const r = await relay()
  const res = await r.router.handle(admin('localhost:1'))
  assert.equal(res.status, 400)
  assert.equal(bodyOf(res).error, 'HostNotFound')
  assert.equal(r.state.hosts.byHostname('localhost:1'), undefined)
})

test('loop guard: a host whose Server header says atproto-relay is refused and banned', async () => {
  const server = createServer((_req, res) => res.writeHead(200, { server: 'indigo-relay/1 (atproto-relay)', 'content-type': 'application/json' }).end('{}'))
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res))
  cleanups.push(() => new Promise<void>((res) => server.close(() => res())))
  const hostname = `localhost:${(server.address() as AddressInfo).port}`
  const r = await relay()
  const res = await r.router.handle(admin(hostname))
  assert.equal(res.status, 400)
  assert.equal(bodyOf(res).error, 'HostBanned')
  assert.equal(r.state.hosts.byHostname(hostname)?.status, 'banned')
  assert.equal(r.hosts.isSubscribed(r.state.hosts.byHostname(hostname)!.id), false)
  // And stays refused.
  assert.equal((await r.router.handle(admin(hostname))).status, 400)
})

test('public requestCrawl: banned domains and the new-hosts-per-day limit are refused before any request', async () => {
  const r = await relay({ newHostsPerDayLimit: 0 })
  r.state.domainBans.add('banned.example')
  const banned = await r.router.handle(pub('pds.banned.example'))
  assert.equal(banned.status, 400)
  assert.equal(bodyOf(banned).error, 'HostBanned')
  const limited = await r.router.handle(pub('pds.elsewhere.example'))
  assert.equal(limited.status, 429)
  assert.equal(bodyOf(limited).error, 'RateLimitExceeded')
  const plain = await (await relay({ allowInsecureHosts: false })).router.handle(pub('http://pds.elsewhere.example'))
  assert.equal(plain.status, 400)
  assert.match(String(bodyOf(plain).message), /without TLS/)
})
