// DID → signing key, PDS host and handle, for the policy layer and the native key cache.
//
// Lookups go memory LRU → SQLite (identities table) → network. Network fetches are coalesced
// per DID (N callers, one request) and at most `maxInFlight` run at once; the rest queue.
// Good answers live `ttlMs`, failures `negativeTtlMs` (short: a DID that 404s now may exist
// in a minute). When a refresh of a known-good identity fails for a transient reason
// (timeout, network, HTTP error) the old identity is served, marked `stale`, and retried
// after `negativeTtlMs`: a PLC outage must not make every account unverifiable at once.
//
// did:plc goes to the operator's --plc-host, trusted even on a private address. did:web goes
// through the SSRF-safe fetcher (lib/relay/ssrf.ts); `did:web:localhost%3APORT` only with
// --allow-insecure-hosts. Failures come back as values with a named reason, never thrown.
import http from 'node:http'
import https from 'node:https'
import { logger } from '../logger.js'
import { LruCache } from '../db/lru.js'
import type { IdentityRecord, IdentityStore } from '../db/identities.js'
import { SafeFetchError, safeGet } from '../relay/ssrf.js'
import type { LookupAll, SafeFetchFailure } from '../relay/ssrf.js'
import { didMethod, didWebHost, isValidDid, isValidPlcDid } from './did.js'
import { identityFromFields, parseDidDocument } from './did-doc.js'
import type { AtprotoIdentity } from './did-doc.js'

export type ResolveFailureReason =
  | 'invalid_did'
  | 'unsupported_method'
  | 'not_found'
  | 'timeout'
  | 'bad_document'
  | 'no_key'
  | 'no_pds'
  | 'ssrf_blocked'
  | 'http_error'
  | 'network_error'

export interface ResolvedIdentity extends AtprotoIdentity {
  fetchedAt: number
}

export type ResolveResult =
  | { ok: true; identity: ResolvedIdentity; stale: boolean }
  | { ok: false; did: string; reason: ResolveFailureReason; message: string; fetchedAt: number }

export type LookupSource = 'memory' | 'sqlite' | 'fetch' | 'coalesced' | 'invalid'

// Counters for lib/metrics.ts (no DID labels); every method is optional to implement.
export interface ResolverMetrics {
  lookup(source: LookupSource): void
  fetched(method: 'plc' | 'web', outcome: 'ok' | ResolveFailureReason, seconds: number): void
  staleServed(): void
  purged(): void
}

export interface ResolverOptions {
  plcHost: string
  allowInsecureHosts: boolean
  store?: IdentityStore
  cacheSize?: number
  ttlMs?: number
  negativeTtlMs?: number
  connectTimeoutMs?: number
  timeoutMs?: number
  maxBytes?: number
  maxInFlight?: number
  // forceRefresh is ignored for an entry fetched less than this long ago, so a stream of
  // bad signatures cannot turn into a stream of PLC requests.
  refreshMinIntervalMs?: number
  lookup?: LookupAll
  now?: () => number
  metrics?: Partial<ResolverMetrics>
  // Called when a DID's cached answer changes (undefined: purged); feeds the native key cache.
  onUpdate?: (did: string, result: ResolveResult | undefined) => void
}

export class ResolverConfigError extends Error {
  override name = 'ResolverConfigError'
}

interface Entry {
  result: ResolveResult
  expiresAt: number
}

interface Flight {
  promise: Promise<ResolveResult>
  purged: boolean
}

const transientReasons: ReadonlySet<ResolveFailureReason> = new Set(['timeout', 'network_error', 'http_error'])

export const resolverDefaults = {
  cacheSize: 500_000,
  ttlMs: 24 * 3600_000,
  negativeTtlMs: 120_000,
  connectTimeoutMs: 3_000,
  timeoutMs: 10_000,
  maxBytes: 128 * 1024,
  maxInFlight: 32,
  refreshMinIntervalMs: 5_000,
}

export class IdentityResolver {
  private readonly o: typeof resolverDefaults & ResolverOptions
  private readonly plcBase: string
  private readonly plcAgent: http.Agent
  private readonly now: () => number
  private readonly cache: LruCache<string, Entry>
  private readonly flights = new Map<string, Flight>()
  private readonly pendingWrites = new Map<string, IdentityRecord>()
  private flushTimer: NodeJS.Immediate | undefined
  private active = 0
  private readonly waiters: (() => void)[] = []
  private closed = false

  constructor(opts: ResolverOptions) {
    this.o = { ...resolverDefaults, ...opts }
    this.now = opts.now ?? Date.now
    this.cache = new LruCache(this.o.cacheSize)
    let plc: URL
    try {
      plc = new URL(opts.plcHost)
    } catch {
      throw new ResolverConfigError(`--plc-host is not a URL: ${opts.plcHost}`)
    }
    if (plc.protocol !== 'https:' && plc.protocol !== 'http:') throw new ResolverConfigError(`--plc-host must be http(s): ${opts.plcHost}`)
    this.plcBase = plc.href.replace(/\/+$/, '')
    const agentOpts = { keepAlive: true, maxSockets: this.o.maxInFlight }
    this.plcAgent = plc.protocol === 'https:' ? new https.Agent(agentOpts) : new http.Agent(agentOpts)
  }

  // The cached answer if it is still fresh; never touches the network (the hot path asks this
  // first and awaits resolve() only for the DIDs it returns undefined for).
  peek(did: string): ResolveResult | undefined {
    const found = this.cached(did)
    if (found === undefined || found.entry.expiresAt <= this.now()) return undefined
    this.o.metrics?.lookup?.(found.source)
    return found.entry.result
  }

  // `forceRefresh`: refetch even if cached (after a signature failure), unless the cached
  // answer is younger than refreshMinIntervalMs.
  async resolve(did: string, opts: { forceRefresh?: boolean } = {}): Promise<ResolveResult> {
    const invalid = checkSyntax(did, this.now())
    if (invalid !== undefined) {
      this.o.metrics?.lookup?.('invalid')
      return invalid
    }
    const found = this.cached(did)
    const now = this.now()
    if (found !== undefined && found.entry.expiresAt > now) {
      const age = now - fetchedAt(found.entry.result)
      if (opts.forceRefresh !== true || age < this.o.refreshMinIntervalMs) {
        this.o.metrics?.lookup?.(found.source)
        return found.entry.result
      }
    }
    const flying = this.flights.get(did)
    if (flying !== undefined) {
      this.o.metrics?.lookup?.('coalesced')
      return flying.promise
    }
    this.o.metrics?.lookup?.('fetch')
    // The flight exists before its promise: fetchAndStore compares against it when done.
    const flight = { purged: false } as Flight
    flight.promise = this.fetchAndStore(did, found?.entry, flight)
    this.flights.set(did, flight)
    return flight.promise
  }

  // Forgets the DID everywhere (on #identity, or when host authority disagrees): the next
  // resolve() fetches, and a fetch already under way no longer fills the cache.
  purge(did: string): void {
    this.cache.delete(did)
    this.pendingWrites.delete(did)
    if (!this.closed) this.o.store?.delete(did)
    const flight = this.flights.get(did)
    if (flight !== undefined) {
      flight.purged = true
      this.flights.delete(did)
    }
    this.o.metrics?.purged?.()
    this.o.onUpdate?.(did, undefined)
  }

  stats(): { cacheSize: number; inFlight: number; queued: number } {
    return { cacheSize: this.cache.size, inFlight: this.active, queued: this.waiters.length }
  }

  // Writes buffered cache entries now (close() does; tests use it to simulate a restart).
  flush(): void {
    if (this.flushTimer !== undefined) clearImmediate(this.flushTimer)
    this.flushTimer = undefined
    if (this.closed || this.o.store === undefined || this.pendingWrites.size === 0) return
    const records = [...this.pendingWrites.values()]
    this.pendingWrites.clear()
    try {
      this.o.store.putMany(records)
    } catch (err) {
      logger.error('identity', 'could not persist identity cache entries', { count: records.length, error: (err as Error).message })
    }
  }

  close(): void {
    this.flush()
    this.closed = true
    this.plcAgent.destroy()
  }

  private cached(did: string): { entry: Entry; source: 'memory' | 'sqlite' } | undefined {
    const hit = this.cache.get(did)
    if (hit !== undefined) return { entry: hit, source: 'memory' }
    if (this.o.store === undefined || this.closed) return undefined
    const record = this.pendingWrites.get(did) ?? this.o.store.get(did)
    const entry = record === undefined ? undefined : entryFromRecord(record)
    if (entry === undefined) return undefined
    this.cache.set(did, entry)
    return { entry, source: 'sqlite' }
  }

  private async fetchAndStore(did: string, previous: Entry | undefined, flight: Flight): Promise<ResolveResult> {
    await this.acquire()
    const started = process.hrtime.bigint()
    let result: ResolveResult
    try {
      result = await this.fetchDocument(did)
    } finally {
      this.release()
      if (this.flights.get(did) === flight) this.flights.delete(did)
    }
    const method = didMethod(did) === 'plc' ? 'plc' : 'web'
    this.o.metrics?.fetched?.(method, result.ok ? 'ok' : result.reason, Number(process.hrtime.bigint() - started) / 1e9)
    const now = this.now()
    let expiresAt = now + (result.ok ? this.o.ttlMs : this.o.negativeTtlMs)
    if (!result.ok && transientReasons.has(result.reason) && previous?.result.ok === true) {
      logger.warn('identity', 'refresh failed; serving the previous identity', { did, reason: result.reason, message: result.message })
      this.o.metrics?.staleServed?.()
      result = { ok: true, identity: previous.result.identity, stale: true }
      expiresAt = now + this.o.negativeTtlMs
    }
    if (!flight.purged && !this.closed) this.store(did, { result, expiresAt })
    return result
  }

  private store(did: string, entry: Entry): void {
    this.cache.set(did, entry)
    if (this.o.store !== undefined) {
      this.pendingWrites.set(did, recordFromEntry(did, entry))
      this.flushTimer ??= setImmediate(() => this.flush())
    }
    this.o.onUpdate?.(did, entry.result)
  }

  private async fetchDocument(did: string): Promise<ResolveResult> {
    const now = this.now()
    const fail = (reason: ResolveFailureReason, message: string): ResolveResult => ({ ok: false, did, reason, message, fetchedAt: now })
    const target = this.documentUrl(did)
    if ('refused' in target) return fail(target.refused, target.message)
    try {
      const res = await safeGet(target.url, {
        allowInsecure: this.o.allowInsecureHosts,
        trusted: target.trusted,
        connectTimeoutMs: this.o.connectTimeoutMs,
        timeoutMs: this.o.timeoutMs,
        maxBytes: this.o.maxBytes,
        ...(target.trusted ? { agent: this.plcAgent } : {}),
        ...(this.o.lookup === undefined ? {} : { lookup: this.o.lookup }),
      })
      if (res.status === 404 || res.status === 410) return fail('not_found', `${target.url}: HTTP ${res.status}`)
      if (res.status !== 200) return fail('http_error', `${target.url}: HTTP ${res.status}`)
      let doc: unknown
      try {
        doc = JSON.parse(res.body.toString('utf8'))
      } catch {
        return fail('bad_document', `${target.url}: not JSON`)
      }
      const parsed = parseDidDocument(did, doc)
      if (!parsed.ok) return fail(parsed.reason, parsed.message)
      return { ok: true, identity: { ...parsed.identity, fetchedAt: now }, stale: false }
    } catch (err) {
      if (!(err instanceof SafeFetchError)) throw err
      return fail(fetchFailureReason[err.reason], err.message)
    }
  }

  private documentUrl(did: string): { url: string; trusted: boolean } | { refused: ResolveFailureReason; message: string } {
    if (didMethod(did) === 'plc') return { url: `${this.plcBase}/${did}`, trusted: true }
    const web = didWebHost(did)
    if (!web.ok) return { refused: 'invalid_did', message: web.message }
    if (web.localhost && !this.o.allowInsecureHosts) return { refused: 'ssrf_blocked', message: `${web.host} is only allowed with --allow-insecure-hosts` }
    return { url: `${web.localhost ? 'http' : 'https'}://${web.host}/.well-known/did.json`, trusted: false }
  }

  private async acquire(): Promise<void> {
    if (this.active < this.o.maxInFlight) {
      this.active++
      return
    }
    await new Promise<void>((resolve) => this.waiters.push(resolve))
  }

  // Hands the slot straight to the next waiter, so `active` never overshoots.
  private release(): void {
    const next = this.waiters.shift()
    if (next !== undefined) next()
    else this.active--
  }
}

const fetchFailureReason: Record<SafeFetchFailure, ResolveFailureReason> = {
  ssrf_blocked: 'ssrf_blocked',
  dns_not_found: 'not_found',
  timeout: 'timeout',
  network_error: 'network_error',
  too_large: 'bad_document',
  bad_url: 'invalid_did',
}

function checkSyntax(did: string, now: number): ResolveResult | undefined {
  const fail = (reason: ResolveFailureReason, message: string): ResolveResult => ({ ok: false, did, reason, message, fetchedAt: now })
  if (!isValidDid(did)) return fail('invalid_did', 'not a valid DID')
  const method = didMethod(did)
  if (method === 'plc') return isValidPlcDid(did) ? undefined : fail('invalid_did', 'not a valid did:plc')
  if (method !== 'web') return fail('unsupported_method', `did:${method} is not supported`)
  return undefined
}

function fetchedAt(r: ResolveResult): number {
  return r.ok ? r.identity.fetchedAt : r.fetchedAt
}

function recordFromEntry(did: string, e: Entry): IdentityRecord {
  const r = e.result
  if (!r.ok) {
    return { did, keyType: null, keyMultibase: null, pdsEndpoint: null, handle: null, error: r.reason, errorMessage: r.message, fetchedAt: r.fetchedAt, expiresAt: e.expiresAt }
  }
  const i = r.identity
  return {
    did, keyType: i.signingKey.type, keyMultibase: i.signingKey.multibase, pdsEndpoint: i.pdsEndpoint, handle: i.handle ?? null,
    error: null, errorMessage: null, fetchedAt: i.fetchedAt, expiresAt: e.expiresAt,
  }
}

function entryFromRecord(r: IdentityRecord): Entry | undefined {
  if (r.error !== null) {
    return { result: { ok: false, did: r.did, reason: r.error as ResolveFailureReason, message: r.errorMessage ?? '', fetchedAt: r.fetchedAt }, expiresAt: r.expiresAt }
  }
  if (r.keyType === null || r.keyMultibase === null || r.pdsEndpoint === null) return undefined
  const identity = identityFromFields(r.did, r.keyType, r.keyMultibase, r.pdsEndpoint, r.handle)
  if (identity === undefined) return undefined
  return { result: { ok: true, identity: { ...identity, fetchedAt: r.fetchedAt }, stale: false }, expiresAt: r.expiresAt }
}
