// Upstream subscriptions: one com.atproto.sync.subscribeRepos connection per active host,
// through the transport's upstream client, its frames routed into the pipeline.
//
// - Resume: `?cursor=N` with N the host's cursor; a new host (no cursor, -1) starts live. Within
//   a run the cursor is the highest upstream seq received (everything received will be decided),
//   so a reconnect does not fetch again what is still pending; across restarts it is the
//   persisted low-water mark (lib/relay/cursors.ts), so nothing undecided is skipped. N can be
//   0: the first event seen was seq 1, and a restart must replay from there.
// - DNS is resolved here (libuv's pool) with the SSRF rules of lib/relay/ssrf.ts; the address
//   goes down to the transport. Loopback and `localhost:PORT` only with --allow-insecure-hosts.
// - Redials back off in real seconds with jitter (lib/relay/backoff.ts); a connection that
//   ends without progress counts as a failure, so an upstream that accepts and hangs up is not
//   redialled in a tight loop. After maxFailures the host is `offline` and retried slowly.
// - Loop guard: an upstream whose Server header contains "atproto-relay" is another relay;
//   it is refused and the host banned (indigo-relay.md §1.2).
// - An upstream FutureCursor error frame means its sequence restarted below our cursor: the
//   host's cursor is reset to live (indigo marks the host idle and never recovers, §4.2).
//   Other error frames just end the connection and the normal redial applies.
// - Cursors are persisted every cursorFlushMs and at shutdown, only up to the low-water mark.
import type { StateDb } from '../db/database.js'
import type { StateUpdate } from '../db/database.js'
import type { Host } from '../db/hosts.js'
import { logger } from '../logger.js'
import type { RelayMetrics } from '../metrics.js'
import type { Upstream, UpstreamCloseInfo, UpstreamOpenInfo, UpstreamOptions } from '../transport/types.js'
import { backoffDefaults, redialDelayMs } from './backoff.js'
import type { BackoffOptions } from './backoff.js'
import type { CursorTracker } from './cursors.js'
import type { EventSummary } from './pipeline-types.js'
import { SafeFetchError, resolveSafeAddress } from './ssrf.js'
import type { LookupAll } from './ssrf.js'

// Opens one upstream whose frames go to the pipeline as `hostId`'s.
export type UpstreamConnect = (
  opts: UpstreamOptions,
  hostId: number,
  handlers: { onOpen: (info: UpstreamOpenInfo) => void; onClose: (info: UpstreamCloseInfo) => void },
) => Upstream

export interface HostManagerOptions {
  allowInsecureHosts: boolean
  backoff: BackoffOptions
  cursorFlushMs: number
  // Startup resumes this many hosts per second (indigo: a burst of thousands of sockets and
  // DNS lookups at once, PR #1090).
  startRatePerSecond: number
  userAgent: string
  handshakeTimeoutMs: number
}

export const hostManagerDefaults: HostManagerOptions = {
  allowInsecureHosts: false,
  backoff: backoffDefaults,
  cursorFlushMs: 4_000,
  startRatePerSecond: 100,
  userAgent: 'ringlay (atproto-relay)',
  handshakeTimeoutMs: 10_000,
}

export interface HostManagerDeps {
  state: StateDb
  connect: UpstreamConnect
  cursors: CursorTracker
  metrics: RelayMetrics
  // durableSeq read at flush time (a notice-less fsync still lets cursors move).
  durableSeq?: () => number | undefined
  lookup?: LookupAll
  now?: () => number
  random?: () => number
}

type SubState = 'waiting' | 'dialing' | 'open' | 'stopped'

interface Sub {
  hostId: number
  state: SubState
  upstream: Upstream | undefined
  timer: NodeJS.Timeout | undefined
  // Bumped per dial: callbacks of an older dial are ignored.
  gen: number
  openedAt: number
  receivedAtOpen: number
  // The connection was ended on purpose after FutureCursor: redial promptly, not a failure.
  reset: boolean
}

export class HostManager {
  private readonly o: HostManagerOptions
  private readonly subs = new Map<number, Sub>()
  private readonly flushed = new Map<number, number>()
  private readonly now: () => number
  private readonly random: () => number
  private flushTimer: NodeJS.Timeout | undefined
  private flushSoon: NodeJS.Immediate | undefined
  private closed = false

  constructor(
    private readonly d: HostManagerDeps,
    opts: Partial<HostManagerOptions> = {},
  ) {
    this.o = { ...hostManagerDefaults, ...opts }
    this.now = d.now ?? Date.now
    this.random = d.random ?? Math.random
  }

  // Resumes every active host (ramped) and schedules offline ones on the slow retry.
  start(): void {
    this.startFlushing()
    const spacingMs = 1000 / this.o.startRatePerSecond
    let i = 0
    for (const host of this.allHosts('active')) this.subscribe(host.id, Math.round(i++ * spacingMs))
    for (const host of this.allHosts('offline')) this.subscribe(host.id, Math.round(this.random() * this.o.backoff.offlineRetryMs))
    logger.info('hosts', 'resuming upstream subscriptions', { active: i, rampSeconds: Math.round(i * spacingMs) / 1000 })
  }

  // Periodic cursor writes, plus one soon after a host's first event (its first cursor).
  private startFlushing(): void {
    if (this.flushTimer !== undefined) return
    this.flushTimer = setInterval(() => this.flushCursors(), this.o.cursorFlushMs)
    this.flushTimer.unref()
    this.d.cursors.onFirstEvent = () => {
      if (this.flushSoon !== undefined) return
      this.flushSoon = setImmediate(() => {
        this.flushSoon = undefined
        if (!this.closed) this.flushCursors()
      })
    }
  }

  // Starts (or hurries) the host's subscription; a no-op while one is dialling or open.
  subscribe(hostId: number, delayMs = 0): void {
    if (this.closed) return
    this.startFlushing()
    let sub = this.subs.get(hostId)
    if (sub !== undefined && (sub.state === 'dialing' || sub.state === 'open')) return
    if (sub === undefined) {
      sub = { hostId, state: 'waiting', upstream: undefined, timer: undefined, gen: 0, openedAt: 0, receivedAtOpen: -1, reset: false }
      this.subs.set(hostId, sub)
    }
    this.schedule(sub, delayMs)
  }

  isSubscribed(hostId: number): boolean {
    const s = this.subs.get(hostId)?.state
    return s === 'dialing' || s === 'open'
  }

  // Ends the subscription and keeps it ended (ban, admin).
  stop(hostId: number): void {
    const sub = this.subs.get(hostId)
    if (sub === undefined) return
    sub.state = 'stopped'
    clearTimeout(sub.timer)
    sub.upstream?.close(1000, 'relay stopped the subscription')
    this.subs.delete(hostId)
  }

  // #info and error frames from upstreams (the policy hands them over; they are not forwarded).
  upstreamFrame(e: EventSummary): void {
    const host = this.d.state.hosts.get(e.hostId)
    if (e.type === 'info') {
      logger.info('hosts', 'upstream info frame', { host: host?.hostname, name: e.name, message: e.message })
      return
    }
    logger.warn('hosts', 'upstream error frame', { host: host?.hostname, error: e.name, message: e.message })
    const sub = this.subs.get(e.hostId)
    if (e.name === 'FutureCursor') {
      this.resetCursor(e.hostId)
      if (sub !== undefined) sub.reset = true
    }
    // The upstream closes after an error frame anyway; do not wait for it.
    sub?.upstream?.close(1000, `upstream sent ${e.name ?? 'an error'}`)
  }

  // Writes cursors that moved, in one transaction.
  flushCursors(): void {
    const durable = this.d.durableSeq?.()
    if (durable !== undefined) this.d.cursors.syncedUpTo(durable)
    const updates: StateUpdate[] = []
    for (const hostId of this.d.cursors.hostIds()) {
      const seq = this.d.cursors.finishedSeq(hostId)
      if (seq >= 0 && seq > (this.flushed.get(hostId) ?? -1)) updates.push({ kind: 'host-cursor', hostId, seq })
    }
    if (updates.length === 0) return
    this.d.state.applyBatch(updates)
    for (const u of updates) if (u.kind === 'host-cursor') this.flushed.set(u.hostId, u.seq)
    this.d.metrics.hostCursorWrites.inc(updates.length)
  }

  stats(): Record<SubState, number> {
    const out: Record<SubState, number> = { waiting: 0, dialing: 0, open: 0, stopped: 0 }
    for (const s of this.subs.values()) out[s.state]++
    return out
  }

  // Ends every subscription (no redials). Cursors are flushed by the caller once the pipeline
  // has written what it still holds.
  close(): void {
    this.closed = true
    clearInterval(this.flushTimer)
    if (this.flushSoon !== undefined) clearImmediate(this.flushSoon)
    this.d.cursors.onFirstEvent = undefined
    for (const id of [...this.subs.keys()]) this.stop(id)
  }

  private schedule(sub: Sub, delayMs: number): void {
    clearTimeout(sub.timer)
    sub.state = 'waiting'
    sub.timer = setTimeout(() => {
      this.dial(sub).catch((err: unknown) => {
        logger.error('hosts', 'dial failed unexpectedly', { hostId: sub.hostId, err: String((err as Error)?.stack ?? err) })
        if (sub.state === 'dialing') this.failed(sub, 'internal_error', String(err))
      })
    }, delayMs)
  }

  private async dial(sub: Sub): Promise<void> {
    sub.timer = undefined
    if (this.closed || sub.state !== 'waiting') return
    const host = this.d.state.hosts.get(sub.hostId)
    if (host === undefined || host.status === 'banned') return this.stop(sub.hostId)
    sub.state = 'dialing'
    const gen = ++sub.gen
    const { name, port } = splitHost(host)
    let address: string
    try {
      address = (await resolveSafeAddress(name, port, { allowInsecure: this.o.allowInsecureHosts, ...(this.d.lookup ? { lookup: this.d.lookup } : {}) })).address
    } catch (err) {
      if (!(err instanceof SafeFetchError)) throw err
      if (gen === sub.gen && sub.state === 'dialing') this.failed(sub, err.reason, err.message)
      return
    }
    if (gen !== sub.gen || sub.state !== 'dialing') return
    const cursor = Math.max(this.d.cursors.receivedSeq(host.id), this.d.state.hosts.get(host.id)?.lastSeq ?? -1)
    const url = `${host.noTls ? 'ws' : 'wss'}://${host.hostname}/xrpc/com.atproto.sync.subscribeRepos${cursor >= 0 ? `?cursor=${cursor}` : ''}`
    logger.debug('hosts', 'dialling', { host: host.hostname, address, cursor })
    sub.upstream = this.d.connect(
      { url, address, headers: { 'user-agent': this.o.userAgent }, handshakeTimeoutMs: this.o.handshakeTimeoutMs },
      host.id,
      { onOpen: (info) => this.opened(sub, gen, host, info), onClose: (info) => this.ended(sub, gen, host, info) },
    )
  }

  private opened(sub: Sub, gen: number, host: Host, info: UpstreamOpenInfo): void {
    if (gen !== sub.gen || sub.state !== 'dialing') return
    const server = Object.entries(info.headers).find(([k]) => k.toLowerCase() === 'server')?.[1] ?? ''
    if (server.toLowerCase().includes('atproto-relay')) {
      logger.warn('hosts', 'upstream is a relay (Server header); refusing and banning it', { host: host.hostname, server })
      this.d.metrics.upstreamRelaysRefused.inc()
      this.setStatus(host, 'banned')
      this.stop(host.id)
      return
    }
    sub.state = 'open'
    sub.openedAt = this.now()
    sub.receivedAtOpen = this.d.cursors.receivedSeq(host.id)
    this.d.metrics.upstreamConnects.inc()
    logger.info('hosts', 'upstream connected', { host: host.hostname })
  }

  private ended(sub: Sub, gen: number, host: Host, info: UpstreamCloseInfo): void {
    if (gen !== sub.gen) return
    sub.upstream = undefined
    this.d.metrics.upstreamCloses.inc({ reason: info.error?.code ?? 'closed' })
    if (this.closed || sub.state === 'stopped') return
    const wasOpen = sub.state === 'open'
    const progress = wasOpen && (this.d.cursors.receivedSeq(host.id) > sub.receivedAtOpen || this.now() - sub.openedAt >= this.o.backoff.progressAfterMs)
    if (progress || sub.reset) {
      sub.reset = false
      this.d.state.hosts.recordConnected(host.id)
      const current = this.d.state.hosts.get(host.id)
      if (current?.status === 'offline') this.setStatus(current, 'active')
      logger.info('hosts', 'upstream closed; reconnecting', { host: host.hostname, code: info.code, error: info.error?.code })
      return this.schedule(sub, redialDelayMs(0, this.o.backoff, this.random))
    }
    const reason = wasOpen ? 'no_progress' : (info.error?.code ?? 'closed')
    this.failed(sub, reason, info.error?.message ?? `closed with ${info.code} ${info.reason}`)
  }

  private failed(sub: Sub, reason: string, message: string): void {
    const failures = this.d.state.hosts.recordFailure(sub.hostId, `${reason}: ${message}`)
    this.d.metrics.upstreamFailures.inc({ reason })
    const host = this.d.state.hosts.get(sub.hostId)
    if (host !== undefined && failures >= this.o.backoff.maxFailures && host.status === 'active') this.setStatus(host, 'offline')
    const delay = redialDelayMs(failures, this.o.backoff, this.random)
    logger.info('hosts', 'upstream failed', { host: host?.hostname, reason, message, failures, retryInMs: delay })
    this.schedule(sub, delay)
  }

  private resetCursor(hostId: number): void {
    this.d.cursors.reset(hostId)
    this.d.state.hosts.setCursor(hostId, -1)
    this.flushed.delete(hostId)
    this.d.metrics.futureCursorResets.inc()
  }

  private setStatus(host: Host, status: 'active' | 'offline' | 'banned'): void {
    if (host.status === status) return
    this.d.state.hosts.setStatus(host.id, status)
    this.d.metrics.hostStatusChanges.inc({ status })
    logger.info('hosts', 'host status changed', { host: host.hostname, from: host.status, to: status })
  }

  private *allHosts(status: 'active' | 'offline'): Generator<Host> {
    let afterId = 0
    for (;;) {
      const page = this.d.state.hosts.list({ afterId, limit: 1000, status })
      yield* page
      if (page.length < 1000) return
      afterId = (page[page.length - 1] as Host).id
    }
  }
}

// `localhost:2583` → localhost, 2583; anything else → its name and the scheme's port.
function splitHost(host: Host): { name: string; port: number } {
  const i = host.hostname.lastIndexOf(':')
  if (i > 0) return { name: host.hostname.slice(0, i), port: Number(host.hostname.slice(i + 1)) }
  return { name: host.hostname, port: host.noTls ? 80 : 443 }
}
