// Every Prometheus metric the relay exports is defined here (one place to read the names,
// no per-DID labels). Transport numbers are read from `transport.stats()` once per scrape;
// counts of events the transports report through callbacks are incremented as they happen.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client'
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

export class RelayMetrics {
  readonly registry = new Registry()
  readonly consumerCloses: Counter<'reason'>
  readonly upstreamCloses: Counter<'reason'>
  readonly httpRequests: Counter<'route' | 'status'>
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
