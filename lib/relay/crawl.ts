// requestCrawl: a host asks to be subscribed (com.atproto.sync.requestCrawl, public) or an
// operator adds one (POST /admin/pds/requestCrawl). Checks, in order (indigo-relay.md §4.2,
// protocol.md §5):
//   hostname syntax (lib/relay/hostname.ts: no IPs, no ports except localhost:PORT)
//   → ws:// / http:// only with --allow-insecure-hosts; localhost:PORT only for the admin and
//     only with --allow-insecure-hosts
//   → domain bans and banned hosts
//   → new hosts per day (public requests only)
//   → describeServer through the SSRF-safe client (it must answer like a PDS), and its Server
//     header must not say atproto-relay (relay-loop guard: the host is banned)
//   → the host row (new hosts get the default account limit), then the subscription starts.
// Already subscribed: nothing to check again, success.
import type { StateDb } from '../db/database.js'
import type { Host } from '../db/hosts.js'
import { json, xrpcError } from '../http/xrpc.js'
import { logger } from '../logger.js'
import type { HttpRequest, HttpResponse } from '../transport/types.js'
import type { HostManager } from './hosts.js'
import { InvalidHostnameError, hostBaseUrl, parseHostname } from './hostname.js'
import type { ParsedHost } from './hostname.js'
import { SafeFetchError, safeGet } from './ssrf.js'
import type { LookupAll } from './ssrf.js'

export class CrawlError extends Error {
  override name = 'CrawlError'
  constructor(
    readonly status: number,
    readonly error: string,
    message: string,
  ) {
    super(message)
  }
}

export interface CrawlOptions {
  allowInsecureHosts: boolean
  defaultAccountLimit: number
  newHostsPerDayLimit: number
  userAgent: string
  checkTimeoutMs: number
  lookup?: LookupAll
  now?: () => number
}

const dayMs = 24 * 3600_000

export class Crawler {
  // When public requests added new hosts (a sliding 24 h window, in memory like indigo's).
  private newHostTimes: number[] = []
  private readonly now: () => number

  constructor(
    private readonly state: StateDb,
    private readonly hosts: HostManager,
    private readonly o: CrawlOptions,
  ) {
    this.now = o.now ?? Date.now
  }

  async requestCrawl(raw: unknown, admin: boolean): Promise<Host> {
    const parsed = this.parse(raw, admin)
    if (this.state.domainBans.isBanned(parsed.hostname)) throw new CrawlError(400, 'HostBanned', `${parsed.hostname} is in a banned domain`)
    const existing = this.state.hosts.byHostname(parsed.hostname)
    if (existing?.status === 'banned') throw new CrawlError(400, 'HostBanned', `${parsed.hostname} is banned`)
    if (existing !== undefined && this.hosts.isSubscribed(existing.id)) return existing
    if (existing === undefined && !admin) this.checkNewHostBudget()
    await this.checkHost(parsed)
    const { host, created } = this.state.hosts.ensure({ hostname: parsed.hostname, noTls: parsed.noTls, trusted: false, accountLimit: this.o.defaultAccountLimit })
    if (created && !admin) this.newHostTimes.push(this.now())
    if (host.status !== 'active') this.state.hosts.setStatus(host.id, 'active')
    this.hosts.subscribe(host.id)
    logger.info('crawl', created ? 'new host' : 'host resubscribed', { host: host.hostname, admin })
    return host
  }

  private parse(raw: unknown, admin: boolean): ParsedHost {
    if (typeof raw !== 'string' || raw.trim() === '') throw new CrawlError(400, 'InvalidRequest', 'hostname is required')
    let parsed: ParsedHost
    try {
      parsed = parseHostname(raw.trim())
    } catch (err) {
      if (err instanceof InvalidHostnameError) throw new CrawlError(400, 'InvalidRequest', `bad hostname: ${err.message}`)
      throw err
    }
    if (parsed.hostname.startsWith('localhost:')) {
      if (!admin) throw new CrawlError(400, 'InvalidRequest', 'localhost hosts can only be added by the admin')
      if (!this.o.allowInsecureHosts) throw new CrawlError(400, 'InvalidRequest', 'localhost hosts need --allow-insecure-hosts')
    } else if (parsed.noTls && !this.o.allowInsecureHosts) {
      throw new CrawlError(400, 'InvalidRequest', 'hosts without TLS (http://, ws://) need --allow-insecure-hosts')
    }
    return parsed
  }

  private checkNewHostBudget(): void {
    const since = this.now() - dayMs
    this.newHostTimes = this.newHostTimes.filter((t) => t > since)
    if (this.newHostTimes.length >= this.o.newHostsPerDayLimit) throw new CrawlError(429, 'RateLimitExceeded', 'too many new hosts today; try again later')
  }

  // The host must answer describeServer like a PDS, and must not be a relay.
  private async checkHost(host: ParsedHost): Promise<void> {
    const url = `${hostBaseUrl(host)}/xrpc/com.atproto.server.describeServer`
    let res
    try {
      res = await safeGet(url, {
        allowInsecure: this.o.allowInsecureHosts,
        connectTimeoutMs: this.o.checkTimeoutMs,
        timeoutMs: this.o.checkTimeoutMs,
        maxBytes: 64 * 1024,
        headers: { 'user-agent': this.o.userAgent },
        ...(this.o.lookup === undefined ? {} : { lookup: this.o.lookup }),
      })
    } catch (err) {
      if (err instanceof SafeFetchError) throw new CrawlError(400, 'HostNotFound', `${host.hostname}: describeServer failed: ${err.message}`)
      throw err
    }
    const server = String(res.headers.server ?? '')
    if (server.toLowerCase().includes('atproto-relay')) {
      const { host: row } = this.state.hosts.ensure({ hostname: host.hostname, noTls: host.noTls, trusted: false, accountLimit: this.o.defaultAccountLimit, status: 'banned' })
      this.state.hosts.setStatus(row.id, 'banned')
      throw new CrawlError(400, 'HostBanned', `${host.hostname} is a relay (Server: ${server}); relays are not subscribed to`)
    }
    if (res.status !== 200) throw new CrawlError(400, 'HostNotFound', `${host.hostname}: describeServer answered HTTP ${res.status}`)
  }
}

// The HTTP side shared by both routes: JSON body {hostname} → 200 {} once the subscription has
// started, or the CrawlError as an XRPC error.
export async function crawlResponse(crawler: Crawler, req: HttpRequest, admin: boolean, observe?: (result: string) => void): Promise<HttpResponse> {
  let body: unknown
  try {
    body = JSON.parse(req.body.toString('utf8'))
  } catch {
    observe?.('InvalidRequest')
    return xrpcError(400, 'InvalidRequest', 'body must be JSON: {"hostname": "..."}')
  }
  try {
    await crawler.requestCrawl((body as { hostname?: unknown } | null)?.hostname, admin)
  } catch (err) {
    if (!(err instanceof CrawlError)) throw err
    observe?.(err.error)
    return xrpcError(err.status, err.error, err.message)
  }
  observe?.('ok')
  return json(200, {})
}
