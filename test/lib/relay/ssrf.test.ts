import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import type { LookupAddress } from 'node:dns'
import { SafeFetchError, addressRefusal, isLoopbackAddress, isPublicAddress, safeGet } from '../../../lib/relay/ssrf.js'
import type { SafeGetOptions } from '../../../lib/relay/ssrf.js'

const limits = { connectTimeoutMs: 2000, timeoutMs: 3000, maxBytes: 1024 }
const strict: SafeGetOptions = { allowInsecure: false, ...limits }
const insecure: SafeGetOptions = { allowInsecure: true, ...limits }

let server: http.Server
let port = 0
const seen: { host: string | undefined; url: string | undefined }[] = []

before(async () => {
  server = http.createServer((req, res) => {
    seen.push({ host: req.headers.host, url: req.url })
    if (req.url === '/big') return res.end('x'.repeat(5000))
    if (req.url === '/redirect') {
      res.writeHead(302, { location: 'http://10.0.0.1/' })
      return res.end()
    }
    res.setHeader('content-type', 'application/json')
    res.end('{"ok":true}')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  port = (server.address() as AddressInfo).port
})

after(() => server.close())

async function refusal(url: string, opts: SafeGetOptions): Promise<string> {
  try {
    await safeGet(url, opts)
  } catch (err) {
    assert.ok(err instanceof SafeFetchError, String(err))
    return err.reason
  }
  assert.fail(`${url} was fetched`)
}

// A resolver for names that exist only in this test (runs offline); counts its calls.
function fakeDns(table: Record<string, string[]>) {
  const calls: string[] = []
  const lookup = async (hostname: string): Promise<LookupAddress[]> => {
    calls.push(hostname)
    const addrs = table[hostname]
    if (addrs === undefined) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' })
    return addrs.map((address) => ({ address, family: net.isIP(address) }))
  }
  return { lookup, calls }
}

test('address classification', () => {
  for (const ip of ['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8']) assert.ok(isPublicAddress(ip), ip)
  const private_ = ['10.1.2.3', '127.0.0.1', '169.254.169.254', '172.16.0.1', '192.168.1.1', '100.64.0.1', '0.0.0.0', '224.0.0.1', '255.255.255.255', '198.18.0.1']
  const private6 = ['::1', '::', 'fe80::1', 'fc00::1', 'fd12::1', '::ffff:10.0.0.1', '::ffff:127.0.0.1', '2001:db8::1', '2002:a00:1::1', 'ff02::1']
  for (const ip of [...private_, ...private6, 'not-an-ip']) assert.ok(!isPublicAddress(ip), ip)
  assert.ok(isLoopbackAddress('127.0.0.53') && isLoopbackAddress('::1') && !isLoopbackAddress('10.0.0.1'))
  assert.equal(addressRefusal('8.8.8.8', 443, false), undefined)
  assert.match(addressRefusal('8.8.8.8', 8080, false) ?? '', /port/)
  assert.equal(addressRefusal('127.0.0.1', 8080, true), undefined)
  assert.match(addressRefusal('10.0.0.1', 80, true) ?? '', /not a public/)
})

test('private, loopback and link-local literals are refused before connecting', async () => {
  assert.equal(await refusal('http://10.0.0.1/', strict), 'ssrf_blocked')
  assert.equal(await refusal('http://169.254.169.254/latest/meta-data/', strict), 'ssrf_blocked')
  assert.equal(await refusal(`http://127.0.0.1:${port}/`, strict), 'ssrf_blocked')
  assert.equal(await refusal(`http://[::1]:${port}/`, strict), 'ssrf_blocked')
  assert.equal(await refusal('http://[::ffff:127.0.0.1]/', strict), 'ssrf_blocked')
  // The insecure flag admits loopback only.
  assert.equal(await refusal('http://10.0.0.1/', insecure), 'ssrf_blocked')
  assert.equal(await refusal('http://169.254.169.254/', insecure), 'ssrf_blocked')
  assert.equal(seen.length, 0)
})

test('ports other than 80 and 443 are refused without asking DNS', async () => {
  const dns = fakeDns({ 'pds.example.com': ['93.184.216.34'] })
  assert.equal(await refusal('https://pds.example.com:8443/', { ...strict, lookup: dns.lookup }), 'ssrf_blocked')
  assert.equal(await refusal('http://pds.example.com:22/', { ...strict, lookup: dns.lookup }), 'ssrf_blocked')
  assert.deepEqual(dns.calls, [])
  // With the flag, an odd port is still refused on a public address.
  assert.equal(await refusal('https://pds.example.com:8443/', { ...insecure, lookup: dns.lookup }), 'ssrf_blocked')
})

test('names that resolve to private addresses are refused; unknown names are not_found', async () => {
  const dns = fakeDns({ 'evil.example.com': ['10.1.2.3', '192.168.0.7'], 'sneaky.example.com': ['127.0.0.1'] })
  assert.equal(await refusal('https://evil.example.com/', { ...strict, lookup: dns.lookup }), 'ssrf_blocked')
  assert.equal(await refusal('https://sneaky.example.com/', { ...strict, lookup: dns.lookup }), 'ssrf_blocked')
  assert.equal(await refusal('https://gone.example.com/', { ...strict, lookup: dns.lookup }), 'dns_not_found')
})

test('loopback with --allow-insecure-hosts connects to the checked address, resolved once', async () => {
  seen.length = 0
  const dns = fakeDns({ 'pinned.example.com': ['127.0.0.1'] })
  const res = await safeGet(`http://pinned.example.com:${port}/doc?x=1`, { ...insecure, lookup: dns.lookup })
  assert.equal(res.status, 200)
  assert.deepEqual(JSON.parse(res.body.toString()), { ok: true })
  assert.deepEqual(dns.calls, ['pinned.example.com'])
  // The request still names the host (virtual hosting, TLS SNI) while the socket went to the pin.
  assert.deepEqual(seen, [{ host: `pinned.example.com:${port}`, url: '/doc?x=1' }])
  const local = await safeGet(`http://localhost:${port}/`, insecure)
  assert.equal(local.status, 200)
  const literal = await safeGet(`http://127.0.0.1:${port}/`, insecure)
  assert.equal(literal.status, 200)
})

test('a trusted URL (the operator\'s PLC) skips the address checks', async () => {
  const res = await safeGet(`http://127.0.0.1:${port}/`, { ...strict, trusted: true })
  assert.equal(res.status, 200)
})

test('redirects are returned, not followed; bodies over the cap are refused', async () => {
  const res = await safeGet(`http://localhost:${port}/redirect`, insecure)
  assert.equal(res.status, 302)
  assert.equal(await refusal(`http://localhost:${port}/big`, insecure), 'too_large')
  assert.equal(await refusal('gopher://example.com/', insecure), 'bad_url')
  assert.equal(await refusal('not a url', insecure), 'bad_url')
})

test('a server that accepts and never answers times out', async () => {
  const silent = net.createServer(() => {})
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
  const silentPort = (silent.address() as AddressInfo).port
  const started = Date.now()
  try {
    assert.equal(await refusal(`http://127.0.0.1:${silentPort}/`, { ...insecure, timeoutMs: 300 }), 'timeout')
    assert.ok(Date.now() - started < 2500)
  } finally {
    silent.close()
  }
})

test('a refused connection is a network error', async () => {
  const probe = net.createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const closedPort = (probe.address() as AddressInfo).port
  await new Promise((resolve) => probe.close(resolve))
  assert.equal(await refusal(`http://127.0.0.1:${closedPort}/`, insecure), 'network_error')
})
