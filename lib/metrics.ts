// Every Prometheus metric the relay exports is defined here (one place to read the names,
// no per-DID labels). Transport numbers are read from `transport.stats()` once per scrape;
// counts of events the transports report through callbacks are incremented as they happen.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { Transport, TransportStats } from './transport/types.js'

// Monotonic native totals → Prometheus counters.
const transportCounters: Record<string, [name: string, help: string]> = {
  submissions: ['relay_io_submissions_total', 'I/O operations submitted (io_uring SQEs; uws: socket writes requested)'],
  completions: ['relay_io_completions_total', 'I/O operations completed (io_uring CQEs; uws: writes accepted whole)'],
  bytesIn: ['relay_io_bytes_in_total', 'bytes received from sockets (uws: message and request bytes)'],
  bytesOut: ['relay_io_bytes_out_total', 'bytes handed to sockets (uws: message and response bytes)'],
}

// Current levels → gauges.
const transportGauges: Record<string, [name: string, help: string]> = {
  connectionsOpen: ['relay_connections_open', 'open connections (consumers, HTTP clients, upstreams)'],
  consumers: ['relay_consumers', 'connected firehose consumers'],
  queuedSendBytes: ['relay_consumer_queued_send_bytes', 'bytes queued for consumers and not yet accepted by their sockets'],
}

// How long one stats() snapshot serves a scrape: every collect() of one scrape reads the
// same snapshot instead of crossing into the transport once per metric.
const snapshotTtlMs = 250

// Levels the relay's control plane reports, read once per scrape (lib/relay/control-plane.ts
// sets them).
export interface RelaySources {
  held?: () => { events: number; accounts: number }
  hostSummary?: () => { byStatus: Record<string, number>; atAccountLimit: number }
  subscriptions?: () => Record<string, number>
  identity?: () => { cacheSize: number; inFlight: number; queued: number }
  pipeline?: () => Record<string, number>
}

export class RelayMetrics {
  readonly registry = new Registry()
  readonly consumerCloses: Counter<'reason'>
  readonly upstreamCloses: Counter<'reason'>
  readonly httpRequests: Counter<'route' | 'status'>
  // Policy (lib/relay/policy.ts): every upstream event ends accepted or dropped with a reason.
  readonly eventsDropped: Counter<'reason'>
  readonly eventsAccepted: Counter<'type'>
  readonly eventRetries: Counter<'reason'>
  readonly chainBreaks: Counter
  readonly accountsCreated: Counter<'status'>
  readonly accountMigrations: Counter
  readonly policyBatchSeconds: Histogram
  readonly repoStatusChecks: Counter<'result'>
  // Upstream hosts (lib/relay/hosts.ts).
  readonly upstreamConnects: Counter
  readonly upstreamFailures: Counter<'reason'>
  readonly upstreamRelaysRefused: Counter
  readonly futureCursorResets: Counter
  readonly hostStatusChanges: Counter<'status'>
  readonly hostCursorWrites: Counter
  readonly crawlRequests: Counter<'result'>
  // Identity resolution (lib/identity/resolver.ts ResolverMetrics).
  readonly identityLookups: Counter<'source'>
  readonly identityFetches: Counter<'method' | 'outcome'>
  readonly identityFetchSeconds: Histogram<'method'>
  readonly identityStaleServed: Counter
  readonly identityPurges: Counter
  private sources: RelaySources = {}
  private readonly droppedByReason = new Map<string, { inc(): void }>()
  private readonly acceptedByType = new Map<string, { inc(): void }>()
  private transport: Transport | undefined
  private snapshot: { at: number; stats: TransportStats } | undefined

  constructor() {
    collectDefaultMetrics({ register: this.registry })
    const registers = [this.registry]
    const self = this
    new Gauge({
      name: 'relay_transport_info',
      help: 'which transport runs (value 1): uring or uws',
      labelNames: ['transport'],
      registers,
      collect() {
        this.reset()
        if (self.transport !== undefined) this.set({ transport: self.transport.kind }, 1)
      },
    })
    for (const [key, [name, help]] of Object.entries(transportCounters)) this.counterFromStats(key, name, help)
    for (const [key, [name, help]] of Object.entries(transportGauges)) {
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(self.stats()?.[key] ?? 0)
        },
      })
    }
    // Stats a transport adds beyond the common set (e.g. ring-specific counters), so a new
    // native counter is visible without a metrics change.
    new Gauge({
      name: 'relay_transport_stat',
      help: 'other transport statistics by name',
      labelNames: ['name'],
      registers,
      collect() {
        this.reset()
        for (const [key, value] of Object.entries(self.stats() ?? {})) {
          if (!(key in transportCounters) && !(key in transportGauges)) this.set({ name: key }, value)
        }
      },
    })
    this.consumerCloses = new Counter({ name: 'relay_consumer_closes_total', help: 'consumer connections ended, by reason', labelNames: ['reason'], registers })
    this.upstreamCloses = new Counter({ name: 'relay_upstream_closes_total', help: 'upstream connections ended, by reason', labelNames: ['reason'], registers })
    this.httpRequests = new Counter({ name: 'relay_http_requests_total', help: 'HTTP requests answered by the router, by route and status', labelNames: ['route', 'status'], registers })
    this.eventsDropped = new Counter({ name: 'relay_events_dropped_total', help: 'upstream events not passed on, by reason (stale_rev, signature, wrong_host, inversion_mismatch, …)', labelNames: ['reason'], registers })
    this.eventsAccepted = new Counter({ name: 'relay_events_accepted_total', help: 'upstream events passed on to the log and consumers, by type', labelNames: ['type'], registers })
    this.eventRetries = new Counter({ name: 'relay_event_retries_total', help: 'events sent back for validation after a key update, by why (no_key, signature)', labelNames: ['reason'], registers })
    this.chainBreaks = new Counter({ name: 'relay_chain_breaks_total', help: 'valid commits whose since/prevData did not match the stored state (passed on; account desynchronized)', registers })
    this.accountsCreated = new Counter({ name: 'relay_accounts_created_total', help: 'accounts first seen, by initial local status (active, host-throttled)', labelNames: ['status'], registers })
    this.accountMigrations = new Counter({ name: 'relay_account_migrations_total', help: 'accounts moved to a new host after their DID document named it', registers })
    this.policyBatchSeconds = new Histogram({
      name: 'relay_policy_batch_seconds',
      help: 'time the policy spends on one pipeline batch (decisions and the SQLite transaction)',
      buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5],
      registers,
    })
    this.repoStatusChecks = new Counter({ name: 'relay_repo_status_checks_total', help: 'getRepoStatus asked of a PDS for an account inactive upstream that still sent events, by answer', labelNames: ['result'], registers })
    this.upstreamConnects = new Counter({ name: 'relay_upstream_connects_total', help: 'upstream subscriptions opened', registers })
    this.upstreamFailures = new Counter({ name: 'relay_upstream_failures_total', help: 'failed upstream dials and connections that ended without progress, by reason', labelNames: ['reason'], registers })
    this.upstreamRelaysRefused = new Counter({ name: 'relay_upstream_relays_refused_total', help: 'hosts refused and banned because their Server header says atproto-relay (loop guard)', registers })
    this.futureCursorResets = new Counter({ name: 'relay_upstream_future_cursor_resets_total', help: 'upstream FutureCursor errors answered by resetting that host to the live head', registers })
    this.hostStatusChanges = new Counter({ name: 'relay_host_status_changes_total', help: 'host status transitions made by the relay, by new status', labelNames: ['status'], registers })
    this.hostCursorWrites = new Counter({ name: 'relay_host_cursor_writes_total', help: 'upstream cursors persisted (low-water mark of durable or dropped events)', registers })
    this.crawlRequests = new Counter({ name: 'relay_crawl_requests_total', help: 'requestCrawl calls (public and admin), by result', labelNames: ['result'], registers })
    this.identityLookups = new Counter({ name: 'relay_identity_lookups_total', help: 'identity lookups by where the answer came from (memory, sqlite, fetch, coalesced, invalid)', labelNames: ['source'], registers })
    this.identityFetches = new Counter({ name: 'relay_identity_fetches_total', help: 'DID document fetches by method (plc, web) and outcome', labelNames: ['method', 'outcome'], registers })
    this.identityFetchSeconds = new Histogram({
      name: 'relay_identity_fetch_seconds',
      help: 'DID document fetch time by method',
      labelNames: ['method'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    })
    this.identityStaleServed = new Counter({ name: 'relay_identity_stale_served_total', help: 'refreshes that failed transiently and served the previous identity', registers })
    this.identityPurges = new Counter({ name: 'relay_identity_purges_total', help: 'identity cache purges (#identity events, host authority re-checks)', registers })
    this.relayGauges(registers)
  }

  // Where the relay-level gauges read from (set once the control plane runs).
  setSources(sources: RelaySources): void {
    this.sources = sources
  }

  // Hot path: one Map lookup instead of prom-client's label hashing per event.
  dropped(reason: string): void {
    let c = this.droppedByReason.get(reason)
    if (c === undefined) {
      c = this.eventsDropped.labels(reason)
      this.droppedByReason.set(reason, c)
    }
    c.inc()
  }

  accepted(type: string): void {
    let c = this.acceptedByType.get(type)
    if (c === undefined) {
      c = this.eventsAccepted.labels(type)
      this.acceptedByType.set(type, c)
    }
    c.inc()
  }

  retried(why: string): void {
    this.eventRetries.inc({ reason: why })
  }

  chainBreak(): void {
    this.chainBreaks.inc()
  }

  accountCreated(status: string): void {
    this.accountsCreated.inc({ status })
  }

  migrated(): void {
    this.accountMigrations.inc()
  }

  batchSeconds(seconds: number): void {
    this.policyBatchSeconds.observe(seconds)
  }

  statusChecked(result: string): void {
    this.repoStatusChecks.inc({ result })
  }

  // lib/identity's ResolverMetrics.
  resolverMetrics() {
    return {
      lookup: (source: string) => this.identityLookups.inc({ source }),
      fetched: (method: string, outcome: string, seconds: number) => {
        this.identityFetches.inc({ method, outcome })
        this.identityFetchSeconds.observe({ method }, seconds)
      },
      staleServed: () => this.identityStaleServed.inc(),
      purged: () => this.identityPurges.inc(),
    }
  }

  private relayGauges(registers: Registry[]): void {
    const self = this
    new Gauge({
      name: 'relay_held_events',
      help: 'events held until their account\'s identity resolves (never emitted unverified)',
      registers,
      collect() {
        this.set(self.sources.held?.().events ?? 0)
      },
    })
    new Gauge({
      name: 'relay_held_accounts',
      help: 'accounts with held events',
      registers,
      collect() {
        this.set(self.sources.held?.().accounts ?? 0)
      },
    })
    new Gauge({
      name: 'relay_hosts',
      help: 'known upstream hosts by status',
      labelNames: ['status'],
      registers,
      collect() {
        this.reset()
        for (const [status, n] of Object.entries(self.sources.hostSummary?.().byStatus ?? {})) this.set({ status }, n)
      },
    })
    new Gauge({
      name: 'relay_hosts_at_account_limit',
      help: 'hosts whose account count reached their limit (their new accounts are host-throttled)',
      registers,
      collect() {
        this.set(self.sources.hostSummary?.().atAccountLimit ?? 0)
      },
    })
    new Gauge({
      name: 'relay_upstream_subscriptions',
      help: 'upstream subscriptions by state (waiting, connecting, open)',
      labelNames: ['state'],
      registers,
      collect() {
        this.reset()
        for (const [state, n] of Object.entries(self.sources.subscriptions?.() ?? {})) this.set({ state }, n)
      },
    })
    new Gauge({
      name: 'relay_identity_cache_entries',
      help: 'identities in the in-memory resolver cache',
      registers,
      collect() {
        this.set(self.sources.identity?.().cacheSize ?? 0)
      },
    })
    new Gauge({
      name: 'relay_identity_fetches_in_flight',
      help: 'DID document fetches running (queued ones not counted)',
      registers,
      collect() {
        this.set(self.sources.identity?.().inFlight ?? 0)
      },
    })
    new Gauge({
      name: 'relay_pipeline_stat',
      help: 'native pipeline and event log statistics by name',
      labelNames: ['name'],
      registers,
      collect() {
        this.reset()
        for (const [name, value] of Object.entries(self.sources.pipeline?.() ?? {})) {
          if (typeof value === 'number' && Number.isFinite(value)) this.set({ name }, value)
        }
      },
    })
  }

  setTransport(transport: Transport): void {
    this.transport = transport
    this.snapshot = undefined
  }

  async text(): Promise<string> {
    return this.registry.metrics()
  }

  get contentType(): string {
    return this.registry.contentType
  }

  private stats(): TransportStats | undefined {
    if (this.transport === undefined) return undefined
    const now = Date.now()
    if (this.snapshot === undefined || now - this.snapshot.at > snapshotTtlMs) {
      this.snapshot = { at: now, stats: this.transport.stats() }
    }
    return this.snapshot.stats
  }

  // prom-client counters only go up by inc(); feed them the growth since the last scrape.
  private counterFromStats(key: string, name: string, help: string): void {
    const self = this
    let last = 0
    new Counter({
      name,
      help,
      registers: [this.registry],
      collect() {
        const now = self.stats()?.[key] ?? 0
        if (now < last) last = 0 // a new transport started from zero
        if (now > last) this.inc(now - last)
        last = now
      },
    })
  }
}
