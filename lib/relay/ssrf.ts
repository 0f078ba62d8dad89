// Outbound HTTP GETs to addresses that strangers choose (did:web documents, hosts named in
// requestCrawl or in DID documents) without letting them point the relay at its own network.
// The name is resolved first, every candidate address is checked (public unicast only:
// indigo's util/ssrf list), and the connection goes to the checked address: the socket's
// lookup is pinned to it, so a second DNS answer cannot swap in 127.0.0.1 between check and
// connect. Ports other than 80/443 are refused, redirects are never followed, and every
// request has a connect timeout, a total timeout and a body size cap.
//
// `allowInsecure` (--allow-insecure-hosts, tests and local development) additionally admits
// loopback addresses on any port; private networks stay refused. `trusted` is for URLs the
// operator configured (--plc-host): no address or port checks, but the same limits.
import { BlockList, isIP } from 'node:net'
import { lookup as dnsLookup } from 'node:dns'
import http from 'node:http'
import https from 'node:https'
import type { IncomingHttpHeaders } from 'node:http'
import type { LookupAddress } from 'node:dns'

export type SafeFetchFailure = 'ssrf_blocked' | 'dns_not_found' | 'timeout' | 'network_error' | 'too_large' | 'bad_url'

export class SafeFetchError extends Error {
  override name = 'SafeFetchError'
  constructor(
    readonly reason: SafeFetchFailure,
    message: string,
  ) {
    super(message)
  }
}

// dns.lookup with `{ all: true }`; injectable because tests run offline.
export type LookupAll = (hostname: string) => Promise<LookupAddress[]>

export interface SafeGetOptions {
  allowInsecure: boolean
  trusted?: boolean
  connectTimeoutMs: number
  timeoutMs: number
  maxBytes: number
  headers?: Record<string, string>
  lookup?: LookupAll
  // Keep-alive agent for a trusted, busy destination (the PLC); others get a fresh socket.
  agent?: http.Agent
}

export interface SafeResponse {
  status: number
  headers: IncomingHttpHeaders
  body: Buffer
}

const reservedV4: [string, number][] = [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16],
  ['172.16.0.0', 12], ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16],
  ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
]
// Inside 2000::/3 (global unicast): documentation, Teredo and 6to4 (the last two tunnel to
// IPv4 addresses nobody checked).
const reservedV6: [string, number][] = [['2001:db8::', 32], ['2001::', 32], ['2002::', 16]]

const reserved = new BlockList()
for (const [net, bits] of reservedV4) reserved.addSubnet(net, bits, 'ipv4')
for (const [net, bits] of reservedV6) reserved.addSubnet(net, bits, 'ipv6')
const globalV6 = new BlockList()
globalV6.addSubnet('2000::', 3, 'ipv6')
const loopback = new BlockList()
loopback.addSubnet('127.0.0.0', 8, 'ipv4')
loopback.addAddress('::1', 'ipv6')

function family(ip: string): 'ipv4' | 'ipv6' | undefined {
  const f = isIP(ip)
  return f === 4 ? 'ipv4' : f === 6 ? 'ipv6' : undefined
}

// BlockList matches IPv4 rules against IPv4-mapped IPv6 (::ffff:10.0.0.1) as well.
function isMappedV4(ip: string): boolean {
  return /^::ffff:/i.test(ip)
}

export function isPublicAddress(ip: string): boolean {
  const f = family(ip)
  if (f === undefined) return false
  if (reserved.check(ip, f)) return false
  return f === 'ipv4' || isMappedV4(ip) || globalV6.check(ip, 'ipv6')
}

export function isLoopbackAddress(ip: string): boolean {
  const f = family(ip)
  return f !== undefined && loopback.check(ip, f)
}

// Why an address may not be contacted, or undefined when it may.
export function addressRefusal(ip: string, port: number, allowInsecure: boolean): string | undefined {
  if (allowInsecure && isLoopbackAddress(ip)) return undefined
  if (!isPublicAddress(ip)) return `${ip} is not a public address`
  if (port !== 80 && port !== 443) return `port ${port} is not allowed`
  return undefined
}

const defaultLookup: LookupAll = (hostname) =>
  new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true, verbatim: true }, (err, addresses) => (err ? reject(err) : resolve(addresses)))
  })

// The first acceptable address for `hostname`; refuses when none is.
export async function resolveSafeAddress(hostname: string, port: number, opts: Pick<SafeGetOptions, 'allowInsecure' | 'lookup'>): Promise<LookupAddress> {
  const literal = isIP(hostname)
  let candidates: LookupAddress[]
  if (literal !== 0) {
    candidates = [{ address: hostname, family: literal }]
  } else {
    // Refuse odd ports before asking DNS: only loopback may use them, and only when allowed.
    if (port !== 80 && port !== 443 && !opts.allowInsecure) throw new SafeFetchError('ssrf_blocked', `port ${port} is not allowed`)
    try {
      candidates = await (opts.lookup ?? defaultLookup)(hostname)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'ENOTFOUND' || code === 'ENODATA') throw new SafeFetchError('dns_not_found', `${hostname}: no such host`)
      throw new SafeFetchError('network_error', `${hostname}: DNS lookup failed (${code ?? String(err)})`)
    }
  }
  let refusal = `${hostname} has no addresses`
  for (const c of candidates) {
    const why = addressRefusal(c.address, port, opts.allowInsecure)
    if (why === undefined) return c
    refusal = why
  }
  throw new SafeFetchError('ssrf_blocked', `${hostname}: ${refusal}`)
}

export async function safeGet(rawUrl: string, opts: SafeGetOptions): Promise<SafeResponse> {
  let url: URL
  try {
    url = new URL(rawUrl)
  } catch {
    throw new SafeFetchError('bad_url', `not a URL: ${rawUrl}`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new SafeFetchError('bad_url', `unsupported scheme ${url.protocol}`)
  if (url.username !== '' || url.password !== '') throw new SafeFetchError('bad_url', 'credentials in URL')
  const hostname = url.hostname.replace(/^\[|\]$/g, '')
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port)
  const deadline = Date.now() + opts.timeoutMs
  const target = opts.trusted === true ? undefined : await withDeadline(resolveSafeAddress(hostname, port, opts), deadline)
  return request(url, hostname, port, target, deadline, opts)
}

function withDeadline<T>(p: Promise<T>, deadline: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new SafeFetchError('timeout', 'timed out resolving the host')), Math.max(0, deadline - Date.now()))
    p.then(
      (v) => (clearTimeout(timer), resolve(v)),
      (e: unknown) => (clearTimeout(timer), reject(e)),
    )
  })
}

function request(url: URL, hostname: string, port: number, target: LookupAddress | undefined, deadline: number, opts: SafeGetOptions): Promise<SafeResponse> {
  return new Promise((resolve, reject) => {
    const mod = url.protocol === 'https:' ? https : http
    const req = mod.request({
      protocol: url.protocol,
      hostname,
      port,
      path: url.pathname + url.search,
      method: 'GET',
      headers: { accept: 'application/json, application/did+ld+json', ...opts.headers },
      agent: opts.agent ?? false,
      // Pinned: the socket connects to the address that was checked, never re-resolving.
      ...(target === undefined ? {} : { lookup: pinnedLookup(target) }),
    })
    let settled = false
    const fail = (reason: SafeFetchFailure, message: string) => {
      if (settled) return
      settled = true
      clearTimeout(total)
      req.destroy()
      reject(new SafeFetchError(reason, message))
    }
    const total = setTimeout(() => fail('timeout', `no complete answer within ${opts.timeoutMs} ms`), Math.max(0, deadline - Date.now()))
    req.on('socket', (socket) => {
      if (!socket.connecting) return
      const connect = setTimeout(() => fail('timeout', `no connection within ${opts.connectTimeoutMs} ms`), opts.connectTimeoutMs)
      socket.once('connect', () => clearTimeout(connect))
      socket.once('close', () => clearTimeout(connect))
    })
    req.on('error', (err: NodeJS.ErrnoException) => fail('network_error', `${hostname}: ${err.code ?? err.message}`))
    req.on('response', (res) => {
      const declared = Number(res.headers['content-length'] ?? '0')
      if (declared > opts.maxBytes) return fail('too_large', `response of ${declared} bytes exceeds ${opts.maxBytes}`)
      const chunks: Buffer[] = []
      let size = 0
      res.on('data', (chunk: Buffer) => {
        size += chunk.length
        if (size > opts.maxBytes) return fail('too_large', `response exceeds ${opts.maxBytes} bytes`)
        chunks.push(chunk)
      })
      res.on('error', (err) => fail('network_error', `${hostname}: ${err.message}`))
      res.on('end', () => {
        if (settled) return
        settled = true
        clearTimeout(total)
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) })
      })
    })
    req.end()
  })
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void

// net.connect asks for `{ all: true }` when it may race IPv4 and IPv6 (autoSelectFamily).
function pinnedLookup(target: LookupAddress) {
  return (_hostname: string, options: { all?: boolean }, cb: LookupCallback) => {
    if (options.all === true) cb(null, [target])
    else cb(null, target.address, target.family)
  }
}
