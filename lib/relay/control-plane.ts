// The relay's TypeScript control plane around the native pipeline: SQLite state, the identity
// resolver feeding the native key cache, the policy deciding every event, the upstream host
// subscriptions, requestCrawl (public and admin) and the metrics sources. lib/server.ts builds
// the transport and the pipeline, then this.
//
// Shutdown order matters for cursors: stop the upstreams (nothing new arrives), close the
// pipeline (it writes what it still holds and reports it), then persist the cursors (now as
// far as the log is durable), then close SQLite.
import type { Config } from '../config.js'
import type { StateDb } from '../db/database.js'
import { AdminAuth } from '../http/admin-auth.js'
import type { Route } from '../http/router.js'
import { IdentityResolver } from '../identity/resolver.js'
import { logger } from '../logger.js'
import type { RelayMetrics } from '../metrics.js'
import { adminRequestCrawl } from '../routes/admin.pds.requestCrawl.js'
import { getRepoStatus } from '../routes/com.atproto.sync.getRepoStatus.js'
import { requestCrawl } from '../routes/com.atproto.sync.requestCrawl.js'
import type { Transport } from '../transport/types.js'
import { Crawler } from './crawl.js'
import { HostManager } from './hosts.js'
import type { HostManagerOptions, UpstreamConnect } from './hosts.js'
import { KeyFeed } from './key-feed.js'
import type { RelayPipeline } from './pipeline-types.js'
import { Policy } from './policy.js'
import type { PolicyOptions } from './policy.js'
import { fetchRepoStatus } from './repo-status.js'
import type { LookupAll } from './ssrf.js'

const userAgent = 'ringlay (atproto-relay)'

export interface ControlPlaneOptions {
  config: Config
  state: StateDb
  transport: Transport
  pipeline: RelayPipeline
  metrics: RelayMetrics
  // Opens an upstream whose frames reach the pipeline; default: pipeline.connectUpstream, else
  // the transport's client with frames handed to pipeline.ingest.
  connect?: UpstreamConnect
  // Tests: DNS answers, shorter timings.
  lookup?: LookupAll
  hostOptions?: Partial<HostManagerOptions>
  policyOptions?: Partial<PolicyOptions>
}

export class ControlPlane {
  readonly resolver: IdentityResolver
  readonly keys: KeyFeed
  readonly policy: Policy
  readonly hosts: HostManager
  readonly crawler: Crawler
  readonly auth: AdminAuth
  readonly routes: Route[]
  private closed = false

  constructor(private readonly o: ControlPlaneOptions) {
    const { config, state, pipeline, metrics } = o
    this.keys = new KeyFeed(pipeline)
    this.resolver = new IdentityResolver({
      plcHost: config.plcHost,
      allowInsecureHosts: config.allowInsecureHosts,
      store: state.identities,
      metrics: metrics.resolverMetrics(),
      onUpdate: this.keys.onUpdate,
      ...(o.lookup === undefined ? {} : { lookup: o.lookup }),
    })
    const statusOptions = { allowInsecureHosts: config.allowInsecureHosts, timeoutMs: 5_000, userAgent, ...(o.lookup === undefined ? {} : { lookup: o.lookup }) }
    const repoStatus = async (did: string, hostId: number): Promise<string | undefined> => {
      const host = state.hosts.get(hostId)
      return host === undefined ? undefined : fetchRepoStatus(host, did, statusOptions)
    }
    this.policy = new Policy(
      { state, resolver: this.resolver, pipeline, keys: this.keys, metrics, repoStatus, onUpstreamFrame: (e) => this.hosts.upstreamFrame(e) },
      { lenient: config.lenientSyncValidation, ...o.policyOptions },
    )
    // The pipeline's own connect routes frames natively (io_uring) and gives uWS upstreams
    // flow control and per-connection seq checks; plain ingest is the fallback.
    const connect: UpstreamConnect =
      o.connect ??
      pipeline.connectUpstream?.bind(pipeline) ??
      ((opts, hostId, h) => o.transport.connectUpstream(opts, { ...h, onMessages: (frames) => pipeline.ingest(hostId, frames) }))
    this.hosts = new HostManager(
      { state, connect, cursors: this.policy.cursors, metrics, durableSeq: () => durableSeq(pipeline), ...(o.lookup === undefined ? {} : { lookup: o.lookup }) },
      { allowInsecureHosts: config.allowInsecureHosts, ...o.hostOptions },
    )
    this.crawler = new Crawler(state, this.hosts, {
      allowInsecureHosts: config.allowInsecureHosts,
      defaultAccountLimit: config.defaultAccountLimit,
      newHostsPerDayLimit: config.newHostsPerDayLimit,
      userAgent,
      checkTimeoutMs: 5_000,
      ...(o.lookup === undefined ? {} : { lookup: o.lookup }),
    })
    this.auth = new AdminAuth(config.adminPassword ?? generatedPassword())
    const observe = (result: string): void => metrics.crawlRequests.inc({ result })
    this.routes = [adminRequestCrawl({ crawler: this.crawler, auth: this.auth, observe }), requestCrawl({ crawler: this.crawler, observe }), getRepoStatus({ accounts: state.accounts })]
    metrics.setSources({
      held: () => this.policy.stats(),
      hostSummary: () => state.hosts.summary(),
      subscriptions: () => this.hosts.stats(),
      identity: () => this.resolver.stats(),
      pipeline: () => pipeline.stats(),
    })
    pipeline.onBatch(this.policy.handleBatch)
  }

  // Resumes the subscriptions of active hosts (ramped).
  start(): void {
    this.hosts.start()
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.hosts.close()
    try {
      await this.o.pipeline.close()
      // close() resolves once the log is closed, fsync'd: everything written is durable.
      this.policy.cursors.syncedUpTo(Number.MAX_SAFE_INTEGER)
    } finally {
      this.hosts.flushCursors()
      this.policy.close()
      this.resolver.close()
    }
  }
}

function generatedPassword(): string {
  const password = AdminAuth.generatePassword()
  logger.info('admin', 'no --admin-password given; generated one for this run', { password })
  return password
}

// The pipeline's durable log position, when its stats carry one.
function durableSeq(pipeline: RelayPipeline): number | undefined {
  try {
    const v = pipeline.stats().durableSeq
    return typeof v === 'number' ? v : undefined
  } catch {
    return undefined
  }
}
