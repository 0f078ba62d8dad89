// The policy layer: takes the pipeline's batches of event summaries, decides each event
// (lib/relay/rules.ts), writes account state in one SQLite transaction per batch, and
// answers with one decide() crossing per batch.
//
// Holding. An event whose decision needs an identity answer (an unknown DID, a DID whose key
// the native cache lacks, a host authority re-check, a refresh after a bad signature) is held,
// and so is every later event of the same account: decisions for one DID must reach the log
// in upstream order, so nothing overtakes a held event. Held events stay pending in the
// native pipeline, so they count against the host's pending bound there, which pauses reading
// that upstream: a host whose identities cannot be resolved is backpressured, never emitted
// unverified. Per-account and per-host caps drop the excess (`hold_overflow`); an event held
// longer than holdTimeoutMs is dropped (`identity_unavailable`).
//
// Retries. After a key update the affected events go back to native validation (`retry`)
// and return as new summaries with the same id. While one is out, later events of its account
// may only be retried too, never decided.
import { LruCache } from '../db/lru.js'
import { logger } from '../logger.js'
import type { StateDb } from '../db/database.js'
import type { IdentityResolver, ResolveResult } from '../identity/resolver.js'
import { CursorTracker } from './cursors.js'
import type { KeyFeed } from './key-feed.js'
import { isTransientFailure } from './key-feed.js'
import { PendingState } from './pending-state.js'
import type { Decision, EventSummary, PipelineBatch, RelayPipeline, WrittenNotice } from './pipeline-types.js'
import { EventRules } from './rules.js'
import type { Item, Job, Resolved, Retry } from './rules.js'

export interface PolicyOptions {
  lenient: boolean
  maxHeldPerAccount: number
  maxHeldPerHost: number
  holdTimeoutMs: number
  // After a host mismatch made the policy re-fetch a DID's document, further events from a
  // host it does not name are refused without another fetch for this long (an old PDS cannot
  // force one PLC request per event).
  authorityRecheckMs: number
  maxKeyRetries: number
  // First wait after a transient resolution failure; doubles up to 60 s.
  resolveRetryMs: number
  // Commits from an account inactive only upstream make the policy ask its PDS (getRepoStatus)
  // at most this often per account.
  statusRecheckMs: number
  // Written account changes are stored in SQLite together at most this late (pending-state.ts).
  stateFlushMs: number
}

export const policyDefaults: PolicyOptions = {
  lenient: false,
  maxHeldPerAccount: 1_000,
  maxHeldPerHost: 50_000,
  holdTimeoutMs: 10 * 60_000,
  authorityRecheckMs: 60_000,
  maxKeyRetries: 3,
  resolveRetryMs: 5_000,
  statusRecheckMs: 10 * 60_000,
  stateFlushMs: 250,
}

export interface PolicyMetrics {
  dropped(reason: string): void
  accepted(type: string): void
  retried(why: string): void
  chainBreak(): void
  accountCreated(status: string): void
  migrated(): void
  batchSeconds(seconds: number): void
  statusChecked(result: string): void
}

export interface PolicyDeps {
  state: StateDb
  resolver: Pick<IdentityResolver, 'peek' | 'resolve' | 'purge'>
  pipeline: Pick<RelayPipeline, 'decide' | 'keyVersions'>
  keys: KeyFeed
  metrics: PolicyMetrics
  // #info and error frames from upstreams (they drive the connection logic, lib/relay/hosts.ts).
  onUpstreamFrame?: (e: EventSummary) => void
  // getRepoStatus on the account's host (lib/relay/repo-status.ts); without it no re-check.
  repoStatus?: (did: string, hostId: number) => Promise<string | undefined>
  now?: () => number
}

// One account's held events.
interface DidQueue {
  did: string
  items: Item[]
  job: Job | undefined
  resolved: Resolved | undefined
  notBefore: number
  failures: number
  timer: NodeJS.Timeout | undefined
}

// Decisions of one batch, with the event type for the accepted counter.
class Out {
  readonly decisions: Decision[] = []
  readonly types: string[] = []
  push(d: Decision, type: string): void {
    this.decisions.push(d)
    this.types.push(type)
  }
}

export class Policy {
  readonly cursors = new CursorTracker()
  readonly pending: PendingState
  private readonly o: PolicyOptions
  private readonly rules: EventRules
  private readonly now: () => number
  private readonly queues = new Map<string, DidQueue>()
  private readonly awaiting = new Map<number, { q: DidQueue; item: Item }>()
  private readonly heldPerHost = new Map<number, number>()
  private readonly hostnames = new Map<number, string>()
  private readonly fetchedFor = new LruCache<string, number>(100_000)
  private held = 0
  private closed = false

  constructor(
    private readonly d: PolicyDeps,
    opts: Partial<PolicyOptions> = {},
  ) {
    this.o = { ...policyDefaults, ...opts }
    this.now = d.now ?? Date.now
    this.pending = new PendingState(d.state, this.now, { flushMs: this.o.stateFlushMs })
    this.rules = new EventRules(
      {
        accounts: this.pending,
        hostname: (id) => this.hostname(id),
        peek: (did) => d.resolver.peek(did),
        keys: d.keys,
        keyVersion: (did) => d.pipeline.keyVersions?.([did])[0],
        refreshIdentity: (did) => this.refreshIdentity(did),
        recentlyFetched: (did) => this.now() - (this.fetchedFor.peek(did) ?? -Infinity) < this.o.authorityRecheckMs,
        statusCheckDue: (a) =>
          d.repoStatus !== undefined && (a.status === 'active' || a.status === 'throttled') && this.now() - (a.upstreamCheckedAt ?? -Infinity) >= this.o.statusRecheckMs,
        counters: d.metrics,
        now: this.now,
      },
      this.o,
    )
  }

  // The pipeline's onBatch handler.
  readonly handleBatch = (batch: PipelineBatch): void => {
    if (batch.written !== null) this.written(batch.written)
    if (batch.events.length === 0) return
    const started = process.hrtime.bigint()
    const out = new Out()
    const touched = new Set<DidQueue>()
    this.inTransaction(out, () => {
      for (const e of batch.events) this.take(e, out, touched)
      for (const q of touched) this.drain(q, out)
    })
    this.finish(out)
    this.d.metrics.batchSeconds(Number(process.hrtime.bigint() - started) / 1e9)
  }

  stats(): { events: number; accounts: number; awaitingRetry: number; unwrittenChanges: number } {
    return { events: this.held, accounts: this.queues.size, awaitingRetry: this.awaiting.size, unwrittenChanges: this.pending.size }
  }

  // Events now in the log: their account changes go to SQLite; cursors may move once durable.
  private written(notice: WrittenNotice): void {
    this.cursors.written(notice)
    try {
      this.pending.written(notice.ids, notice.seqs)
    } catch (err) {
      logger.error('policy', 'could not store account state for written events', { count: notice.ids.length, err: String((err as Error)?.stack ?? err) })
    }
  }

  // Hostnames are cached; an admin rename does not exist, so they never go stale.
  hostname(hostId: number): string | undefined {
    let name = this.hostnames.get(hostId)
    if (name === undefined) {
      name = this.d.state.hosts.get(hostId)?.hostname
      if (name !== undefined) this.hostnames.set(hostId, name)
    }
    return name
  }

  // Held events stay pending in the pipeline, which is closing too.
  close(): void {
    this.closed = true
    for (const q of this.queues.values()) clearTimeout(q.timer)
    try {
      this.pending.flush()
    } catch (err) {
      logger.error('policy', 'could not store account state on close (recovery re-applies it from the log)', { err: String((err as Error)?.stack ?? err) })
    }
  }

  private take(e: EventSummary, out: Out, touched: Set<DidQueue>): void {
    const waiting = this.awaiting.get(e.id)
    if (waiting !== undefined) {
      this.awaiting.delete(e.id)
      waiting.item.e = e
      waiting.item.awaiting = false
      touched.add(waiting.q)
      return
    }
    this.cursors.received(e.id, e.hostId, e.upstreamSeq)
    if (e.type === 'info' || e.type === 'error') this.d.onUpstreamFrame?.(e)
    const existing = e.did === '' ? undefined : this.queues.get(e.did)
    const item: Item = { e, awaiting: false, keyRetries: 0, sigRetried: false, forced: false, keyChanged: false, heldSince: this.now() }
    if (existing !== undefined) {
      this.hold(existing, item, out)
      touched.add(existing)
      return
    }
    // The common case: decided at once, no queue.
    const outcome = this.rules.evaluate(item, undefined)
    if (outcome.kind === 'decide') return out.push(outcome.decision, e.type)
    const q: DidQueue = { did: e.did, items: [], job: undefined, resolved: undefined, notBefore: 0, failures: 0, timer: undefined }
    this.queues.set(e.did, q)
    this.hold(q, item, out)
    touched.add(q)
  }

  private hold(q: DidQueue, item: Item, out: Out): void {
    const host = item.e.hostId
    const hostHeld = this.heldPerHost.get(host) ?? 0
    if (q.items.length >= this.o.maxHeldPerAccount || hostHeld >= this.o.maxHeldPerHost) {
      // A drop is not appended to the log, so it may overtake the account's held events.
      out.push({ id: item.e.id, action: 'drop', reason: 'hold_overflow' }, item.e.type)
      return
    }
    q.items.push(item)
    this.heldPerHost.set(host, hostHeld + 1)
    this.held++
  }

  private release(q: DidQueue): Item {
    const item = q.items.shift() as Item
    const host = item.e.hostId
    this.heldPerHost.set(host, (this.heldPerHost.get(host) ?? 1) - 1)
    this.held--
    return item
  }

  // Decides from the front of the account's queue for as long as it can.
  private drain(q: DidQueue, out: Out): void {
    let blocked = false
    for (let i = 0; i < q.items.length; ) {
      const it = q.items[i] as Item
      if (it.awaiting) {
        blocked = true
        i++
        continue
      }
      if (blocked) {
        const retry = this.rules.retryable(it, q.resolved)
        if (retry === undefined) break
        this.sendRetry(q, it, retry, out)
        i++
        continue
      }
      if (q.job !== undefined) break
      if (q.notBefore > this.now()) {
        this.wake(q)
        break
      }
      const outcome = this.rules.evaluate(it, q.resolved)
      if (outcome.kind === 'decide') {
        this.release(q)
        out.push(outcome.decision, it.e.type)
      } else if (outcome.kind === 'retry') {
        this.sendRetry(q, it, outcome, out)
        blocked = true
        i++
      } else if (this.now() - it.heldSince > this.o.holdTimeoutMs) {
        this.release(q)
        out.push({ id: it.e.id, action: 'drop', reason: 'identity_unavailable' }, it.e.type)
      } else {
        this.startJob(q, outcome.job)
        break
      }
    }
    if (q.items.length === 0 && q.job === undefined) {
      clearTimeout(q.timer)
      this.queues.delete(q.did)
    }
  }

  private sendRetry(q: DidQueue, it: Item, retry: Retry, out: Out): void {
    if (retry.why === 'no_key') it.keyRetries++
    else it.sigRetried = true
    it.awaiting = true
    this.awaiting.set(it.e.id, { q, item: it })
    out.push({ id: it.e.id, action: 'retry' }, it.e.type)
    this.d.metrics.retried(retry.why)
  }

  // Resolves the account's identity off the batch path, then drains the queue again.
  private startJob(q: DidQueue, job: Job): void {
    q.job = job
    const did = q.did
    if (job === 'status') return this.checkStatus(q)
    const run = async (): Promise<{ r: ResolveResult; keyChanged: boolean }> => {
      if (job === 'refresh') this.d.resolver.purge(did)
      const before = job === 'force' ? keyText(this.d.resolver.peek(did)) : undefined
      const r = await this.d.resolver.resolve(did, job === 'force' ? { forceRefresh: true } : {})
      return { r, keyChanged: job === 'force' && keyText(r) !== before }
    }
    run().then(
      ({ r, keyChanged }) => this.jobDone(q, job, r, keyChanged),
      (err: unknown) => {
        logger.error('policy', 'identity resolution threw', { did, err: String((err as Error)?.stack ?? err) })
        this.jobDone(q, job, { ok: false, did, reason: 'network_error', message: String(err), fetchedAt: this.now() }, false)
      },
    )
  }

  private jobDone(q: DidQueue, job: Job, r: ResolveResult, keyChanged: boolean): void {
    q.job = undefined
    if (this.closed) return
    this.d.keys.push(q.did, r)
    if (isTransientFailure(r)) {
      // Try again later; the resolver answers from its negative cache until then.
      q.resolved = undefined
      q.notBefore = this.now() + Math.min(this.o.resolveRetryMs * 2 ** q.failures, 60_000)
      q.failures++
      this.wake(q)
      return
    }
    q.failures = 0
    q.resolved = { result: r, at: this.now() }
    if (job === 'refresh') this.fetchedFor.set(q.did, this.now())
    const head = q.items[0]
    if (job === 'force' && head !== undefined) {
      head.forced = true
      head.keyChanged = keyChanged
    }
    this.redrain(q)
  }

  // Drains the queue again once its notBefore has passed.
  private wake(q: DidQueue): void {
    if (q.timer !== undefined) return
    q.timer = setTimeout(() => this.redrain(q), Math.max(1, q.notBefore - this.now() + 1))
    q.timer.unref()
  }

  // Asks the PDS; its answer (or, failing that, the status we had) is stored as checked now,
  // so the account is not asked again for statusRecheckMs.
  private checkStatus(q: DidQueue): void {
    const a = this.pending.get(q.did)
    if (a === undefined || this.d.repoStatus === undefined) {
      // Cannot happen (only evaluated accounts are checked); never leave the queue stalled.
      q.job = undefined
      q.notBefore = this.now() + this.o.resolveRetryMs
      return this.wake(q)
    }
    const done = (status: string | undefined): void => {
      q.job = undefined
      if (this.closed) return
      this.d.metrics.statusChecked(status === undefined ? 'no_answer' : status === 'active' ? 'active' : 'inactive')
      try {
        this.d.state.accounts.setUpstreamStatus(q.did, status ?? a.upstreamStatus, true)
      } catch (err) {
        logger.error('policy', 'could not store a checked account status', { did: q.did, err: String(err) })
      }
      this.redrain(q)
    }
    this.d.repoStatus(q.did, a.hostId).then(done, (err: unknown) => {
      logger.error('policy', 'getRepoStatus threw', { did: q.did, err: String(err) })
      done(undefined)
    })
  }

  private redrain(q: DidQueue): void {
    q.timer = undefined
    if (this.closed || this.queues.get(q.did) !== q) return
    const out = new Out()
    this.inTransaction(out, () => this.drain(q, out))
    this.finish(out)
  }

  private refreshIdentity(did: string): void {
    this.d.resolver.purge(did)
    this.d.resolver.resolve(did).catch((err: unknown) => logger.error('policy', 'identity refresh threw', { did, err: String(err) }))
  }

  // One transaction for the whole batch. If SQLite fails, the state changes roll back, so the
  // events they belonged to must not be emitted either: accepts become drops.
  private inTransaction(out: Out, fn: () => void): void {
    try {
      this.d.state.transaction(fn)
    } catch (err) {
      logger.error('policy', 'state transaction failed; dropping the batch\'s accepted events', { err: String((err as Error)?.stack ?? err) })
      for (let i = 0; i < out.decisions.length; i++) {
        const d = out.decisions[i] as Decision
        if (d.action === 'accept' || d.action === 'replace') {
          this.pending.discard(d.id)
          out.decisions[i] = { id: d.id, action: 'drop', reason: 'internal_error' }
        }
        else if (d.action === 'emit') out.decisions[i] = { id: -1, action: 'drop', reason: 'internal_error' }
      }
    }
  }

  // Keys go down before the decisions, so retries are validated with them.
  private finish(out: Out): void {
    this.d.keys.flush()
    const decisions: Decision[] = []
    for (let i = 0; i < out.decisions.length; i++) {
      const d = out.decisions[i] as Decision
      const type = out.types[i] as string
      if (d.action === 'drop') {
        if (d.id < 0) continue
        this.cursors.dropped(d.id)
        this.d.metrics.dropped(d.reason)
      } else if (d.action === 'accept' || d.action === 'replace') {
        this.d.metrics.accepted(type)
      }
      decisions.push(d)
    }
    if (decisions.length > 0) this.d.pipeline.decide(decisions)
  }
}

function keyText(r: ResolveResult | undefined): string | undefined {
  return r?.ok === true ? r.identity.signingKey.multibase : undefined
}
