// The resolver against real HTTP servers on localhost: a small PLC stand-in serving the
// captured documents (the dev-env PLC is used in resolver-dev-env.test.ts) and did:web hosts.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import net from 'node:net'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import { IdentityResolver } from '../../../lib/identity/resolver.js'
import type { ResolveResult, ResolverOptions } from '../../../lib/identity/resolver.js'
import { openStateDb } from '../../../lib/db/database.js'
import { setLogSink } from '../../../lib/logger.js'
import { atprotoFixtures, readJson } from './shared-fixtures.js'

setLogSink(() => {})
const fixtures = atprotoFixtures()
const skip = fixtures === undefined
const dir = mkdtempSync(join(tmpdir(), 'ringlay-resolver-'))
after(() => rmSync(dir, { recursive: true, force: true }))

const fixtureDid = 'did:plc:ewvi7nxzyoun6zhxrhs64oiz'

interface Reply {
  status?: number
  body?: unknown
  raw?: string
  delayMs?: number
  hang?: boolean
}

// One HTTP server answering from a table by path; counts hits and concurrent requests.
class DocServer {
  readonly replies = new Map<string, Reply>()
  hits: string[] = []
  active = 0
  maxActive = 0
  port = 0
  private readonly server = http.createServer((req, res) => void this.answer(req.url ?? '', res))

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve))
    this.port = (this.server.address() as AddressInfo).port
    return this
  }

  get url(): string {
    return `http://localhost:${this.port}`
  }

  hitsFor(path: string): number {
    return this.hits.filter((h) => h === path).length
  }

  close(): void {
    this.server.closeAllConnections()
    this.server.close()
  }

  private async answer(path: string, res: http.ServerResponse): Promise<void> {
    this.hits.push(path)
    const reply = this.replies.get(path) ?? { status: 404, body: { message: 'DID not registered' } }
    if (reply.hang === true) return
    this.active++
    this.maxActive = Math.max(this.maxActive, this.active)
    if (reply.delayMs !== undefined) await new Promise((r) => setTimeout(r, reply.delayMs))
    this.active--
    res.writeHead(reply.status ?? 200, { 'content-type': 'application/json' })
    res.end(reply.raw ?? JSON.stringify(reply.body))
  }
}

// The captured document, re-addressed to another DID (and optionally another PDS).
function docFor(did: string, opts: { legacy?: boolean; pds?: string } = {}): Record<string, unknown> {
  const file = opts.legacy === true ? 'indigo-captures/did_plc_doc_legacy.json' : 'indigo-captures/did_plc_doc.json'
  const doc = JSON.parse(JSON.stringify(readJson(fixtures!, file)).replaceAll(fixtureDid, did)) as Record<string, unknown>
  if (opts.pds !== undefined) doc.service = [{ id: '#atproto_pds', type: 'AtprotoPersonalDataServer', serviceEndpoint: opts.pds }]
  return doc
}

function plcDid(i: number): string {
  return `did:plc:${'q'.repeat(23)}${'abcdefghijklmnopqrstuvwxyz234567'[i]}`
}

let plc: DocServer
before(async () => {
  plc = await new DocServer().start()
})
after(() => plc.close())

function resolver(opts: Partial<ResolverOptions> = {}): IdentityResolver {
  return new IdentityResolver({ plcHost: plc.url, allowInsecureHosts: true, ...opts })
}

function reason(r: ResolveResult): string {
  return r.ok ? 'ok' : r.reason
}

test('did:plc through --plc-host: Multikey and legacy key forms', { skip }, async () => {
  plc.replies.set(`/${fixtureDid}`, { body: readJson(fixtures!, 'indigo-captures/did_plc_doc.json') })
  const legacyDid = plcDid(1)
  plc.replies.set(`/${legacyDid}`, { body: docFor(legacyDid, { legacy: true }) })
  const r = resolver()
  const a = await r.resolve(fixtureDid)
  assert.ok(a.ok)
  assert.deepEqual(a.identity.signingKey, { type: 'Multikey', multibase: 'zQ3shXjHeiBuRCKmM36cuYnm7YEMzhGnCmCyW92sRJ9pribSF' })
  assert.deepEqual(a.identity.pds, { hostname: 'bsky.social', noTls: false })
  assert.equal(a.identity.handle, 'atproto.com')
  assert.equal(a.stale, false)
  const b = await r.resolve(legacyDid)
  assert.ok(b.ok)
  assert.equal(b.identity.signingKey.type, 'EcdsaSecp256k1VerificationKey2019')
  assert.match(b.identity.signingKey.multibase, /^zQYEBzXeu/)
  r.close()
})

test('did:web from localhost:PORT (insecure hosts allowed) and its named failures', { skip }, async () => {
  const web = await new DocServer().start()
  const did = `did:web:localhost%3A${web.port}`
  const path = '/.well-known/did.json'
  const webDoc = readJson(fixtures!, 'indigo-captures/did_web_doc.json') as Record<string, unknown>
  try {
    const r = resolver({ negativeTtlMs: 0 })
    web.replies.set(path, { body: { ...webDoc, id: did } })
    assert.equal(reason(await r.resolve(did)), 'no_key')
    web.replies.set(path, { body: webDoc })
    assert.equal(reason(await r.resolve(did)), 'bad_document') // id is did:web:discover.bsky.social
    web.replies.set(path, { body: { ...docFor(did), service: webDoc.service } })
    assert.equal(reason(await r.resolve(did)), 'no_pds')
    web.replies.set(path, { body: docFor(did, { pds: `http://localhost:${web.port}` }) })
    const ok = await r.resolve(did)
    assert.ok(ok.ok)
    assert.deepEqual(ok.identity.pds, { hostname: `localhost:${web.port}`, noTls: true })
    assert.equal(web.hitsFor(path), 4)
    r.close()

    // Without --allow-insecure-hosts nothing is fetched.
    const strict = resolver({ allowInsecureHosts: false })
    assert.equal(reason(await strict.resolve(did)), 'ssrf_blocked')
    assert.equal(web.hitsFor(path), 4)
    strict.close()
  } finally {
    web.close()
  }
})

test('did:web names that resolve to private addresses are refused', async () => {
  const lookups: string[] = []
  const lookup = async (host: string) => {
    lookups.push(host)
    return [{ address: host.startsWith('v6') ? '::1' : '10.0.0.8', family: host.startsWith('v6') ? 6 : 4 }]
  }
  const r = resolver({ allowInsecureHosts: false, lookup })
  assert.equal(reason(await r.resolve('did:web:pds.attacker.net')), 'ssrf_blocked')
  assert.equal(reason(await r.resolve('did:web:v6.attacker.net')), 'ssrf_blocked')
  assert.deepEqual(lookups, ['pds.attacker.net', 'v6.attacker.net'])
  r.close()
})

test('syntax and method failures need no network', async () => {
  const before = plc.hits.length
  const r = resolver()
  assert.equal(reason(await r.resolve('did:key:zQ3shXjHeiBuRCKmM36cuYnm7YEMzhGnCmCyW92sRJ9pribSF')), 'unsupported_method')
  assert.equal(reason(await r.resolve('did:plc:UPPERCASEUPPERCASEUPPERC')), 'invalid_did')
  assert.equal(reason(await r.resolve('not a did')), 'invalid_did')
  assert.equal(reason(await r.resolve('did:web:example.com:path')), 'invalid_did')
  assert.equal(reason(await r.resolve('did:web:router.local')), 'invalid_did')
  assert.equal(plc.hits.length, before)
  r.close()
})

test('HTTP failures: 404/410 not_found, 5xx http_error, bad JSON and oversize bad_document', { skip }, async () => {
  const r = resolver({ maxBytes: 2048 })
  const [gone, tomb, broken, junk, huge] = [2, 3, 4, 5, 6].map(plcDid) as [string, string, string, string, string]
  plc.replies.set(`/${tomb}`, { status: 410, body: {} })
  plc.replies.set(`/${broken}`, { status: 502, raw: 'bad gateway' })
  plc.replies.set(`/${junk}`, { raw: '{"id": ' })
  plc.replies.set(`/${huge}`, { body: { ...docFor(huge), padding: 'x'.repeat(10_000) } })
  assert.deepEqual(await Promise.all([gone, tomb, broken, junk, huge].map(async (d) => reason(await r.resolve(d)))), [
    'not_found',
    'not_found',
    'http_error',
    'bad_document',
    'bad_document',
  ])
  r.close()
})

test('a PLC that never answers: timeout within the limit', async () => {
  const silent = net.createServer(() => {})
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
  const r = new IdentityResolver({ plcHost: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`, allowInsecureHosts: false, timeoutMs: 300 })
  const started = Date.now()
  try {
    const res = await r.resolve(plcDid(7))
    assert.equal(reason(res), 'timeout')
    assert.ok(Date.now() - started < 3000)
  } finally {
    r.close()
    silent.close()
  }
})

test('concurrent resolves of one DID make one request', { skip }, async () => {
  const did = plcDid(8)
  plc.replies.set(`/${did}`, { body: docFor(did), delayMs: 100 })
  const r = resolver()
  const results = await Promise.all(Array.from({ length: 20 }, () => r.resolve(did)))
  assert.ok(results.every((x) => x.ok))
  assert.equal(plc.hitsFor(`/${did}`), 1)
  r.close()
})

test('at most maxInFlight requests run at once; the rest queue', { skip }, async () => {
  const dids = [9, 10, 11, 12, 13, 14].map(plcDid)
  for (const d of dids) plc.replies.set(`/${d}`, { body: docFor(d), delayMs: 60 })
  plc.maxActive = 0
  const r = resolver({ maxInFlight: 2 })
  const pending = dids.map((d) => r.resolve(d))
  assert.deepEqual(r.stats(), { cacheSize: 0, inFlight: 2, queued: 4 })
  const results = await Promise.all(pending)
  assert.ok(results.every((x) => x.ok))
  assert.equal(plc.maxActive, 2)
  assert.deepEqual(r.stats(), { cacheSize: 6, inFlight: 0, queued: 0 })
  r.close()
})

test('failures are cached for the negative TTL, successes for the TTL', { skip }, async () => {
  let clock = 1_000_000
  const r = resolver({ now: () => clock, ttlMs: 60_000, negativeTtlMs: 5_000 })
  const did = plcDid(15)
  plc.replies.delete(`/${did}`)
  assert.equal(reason(await r.resolve(did)), 'not_found')
  assert.equal(reason(await r.resolve(did)), 'not_found')
  assert.equal(plc.hitsFor(`/${did}`), 1)
  plc.replies.set(`/${did}`, { body: docFor(did) })
  clock += 4_000
  assert.equal(reason(await r.resolve(did)), 'not_found')
  clock += 1_001
  assert.equal(reason(await r.resolve(did)), 'ok')
  assert.equal(plc.hitsFor(`/${did}`), 2)
  clock += 59_000
  assert.equal(reason(await r.resolve(did)), 'ok')
  assert.equal(plc.hitsFor(`/${did}`), 2)
  clock += 1_001
  await r.resolve(did)
  assert.equal(plc.hitsFor(`/${did}`), 3)
  r.close()
})

test('purge forgets a DID; a fetch under way at purge time does not refill the cache', { skip }, async () => {
  const did = plcDid(16)
  plc.replies.set(`/${did}`, { body: docFor(did) })
  const updates: [string, boolean | undefined][] = []
  const r = resolver({ onUpdate: (d, res) => updates.push([d, res?.ok]) })
  await r.resolve(did)
  assert.ok(r.peek(did)?.ok)
  r.purge(did)
  assert.equal(r.peek(did), undefined)
  await r.resolve(did)
  assert.equal(plc.hitsFor(`/${did}`), 2)

  r.purge(did)
  plc.replies.set(`/${did}`, { body: docFor(did), delayMs: 80 })
  const during = r.resolve(did)
  await new Promise((resolve) => setTimeout(resolve, 20))
  r.purge(did)
  assert.ok((await during).ok)
  assert.equal(r.peek(did), undefined)
  assert.deepEqual(updates, [
    [did, true],
    [did, undefined],
    [did, true],
    [did, undefined],
    [did, undefined],
  ])
  r.close()
})

test('forceRefresh refetches, but not more often than refreshMinIntervalMs', { skip }, async () => {
  let clock = 5_000_000
  const did = plcDid(17)
  plc.replies.set(`/${did}`, { body: docFor(did) })
  const r = resolver({ now: () => clock, refreshMinIntervalMs: 10_000 })
  await r.resolve(did)
  await r.resolve(did, { forceRefresh: true })
  assert.equal(plc.hitsFor(`/${did}`), 1)
  clock += 10_000
  // The key rotated: the forced refresh sees the new one.
  const rotated = docFor(did, { legacy: true })
  plc.replies.set(`/${did}`, { body: rotated })
  const res = await r.resolve(did, { forceRefresh: true })
  assert.equal(plc.hitsFor(`/${did}`), 2)
  assert.ok(res.ok)
  assert.equal(res.identity.signingKey.type, 'EcdsaSecp256k1VerificationKey2019')
  r.close()
})

test('a failed refresh of a known identity serves it stale and retries soon', { skip }, async () => {
  let clock = 9_000_000
  const did = plcDid(18)
  plc.replies.set(`/${did}`, { body: docFor(did) })
  const r = resolver({ now: () => clock, ttlMs: 1_000, negativeTtlMs: 100 })
  assert.equal((await r.resolve(did)).ok, true)
  clock += 1_001
  plc.replies.set(`/${did}`, { status: 503, raw: 'down' })
  const stale = await r.resolve(did)
  assert.ok(stale.ok && stale.stale)
  assert.equal(plc.hitsFor(`/${did}`), 2)
  clock += 101
  plc.replies.set(`/${did}`, { status: 404, body: {} })
  // An authoritative answer (the DID is gone) replaces the stale identity.
  assert.equal(reason(await r.resolve(did)), 'not_found')
  r.close()
})

test('a restart answers from the identities table without the network', { skip }, async () => {
  const dataDir = join(dir, 'restart')
  const good = plcDid(19)
  const missing = plcDid(20)
  plc.replies.set(`/${good}`, { body: docFor(good) })
  plc.replies.delete(`/${missing}`)
  const db1 = openStateDb({ dataDir })
  const r1 = resolver({ store: db1.identities })
  const first = await r1.resolve(good)
  assert.equal(reason(await r1.resolve(missing)), 'not_found')
  r1.close()
  db1.close()
  const hits = plc.hits.length

  const db2 = openStateDb({ dataDir })
  const sources: string[] = []
  const r2 = resolver({ store: db2.identities, metrics: { lookup: (s) => sources.push(s) } })
  assert.deepEqual(r2.peek(good), first)
  assert.deepEqual(await r2.resolve(good), first)
  assert.equal(reason(await r2.resolve(missing)), 'not_found')
  assert.equal(plc.hits.length, hits)
  assert.deepEqual(sources, ['sqlite', 'memory', 'sqlite'])
  // Purge reaches the table too.
  r2.purge(good)
  assert.equal(db2.identities.get(good), undefined)
  r2.close()
  db2.close()
})
