// The relay pipeline for the policy layer (pipeline-types.ts is the contract): a thin face over
// the native pipeline (native/relay, native/napi/relay.cc). Upstream frames are checked for
// per-connection seq order, validated on the native workers and kept natively; this module
// turns each native batch of summaries into EventSummary objects, hands them to the policy in
// one onBatch call, and sends the policy's decisions back in one compact crossing. Accepted
// frames get their relay seq on the native log thread, are written to the event log, published
// to consumers, and reported back here as WrittenNotices.
//
// Transports. io_uring: the pipeline is attached to the ring (attachUring), so upstreams opened
// through connectUpstream deliver straight to the relay thread and written frames are published
// on the ring thread; JS never touches a frame. uWS: upstream frames arrive in JS (ws) and cross
// once per batch with ingest; written frames wait natively until the uWS fan-out core's next
// pump, which this module triggers (no copy through JS). Flow control pauses the ws socket.
//
//   const p = createPipeline({ transport, dataDir, lenient: false })
//   p.onBatch((batch) => policy.handleBatch(batch))
//   p.connectUpstream(opts, hostId, { onOpen, onClose })
//   await p.close()
import { KeyCache } from '../codec/keys.js'
import { drainNativeLogs, logger } from '../logger.js'
import { loadNative } from '../native.js'
import type { Transport, Upstream, UpstreamCloseInfo, UpstreamOpenInfo, UpstreamOptions } from '../transport/types.js'
import type {
  Decision,
  EventSummary,
  EventType,
  KeyEntry,
  OpenPipeline,
  PipelineBatch,
  PipelineOptions,
  RelayPipeline,
  WrittenNotice,
} from './pipeline-types.js'

export interface CreatePipelineOptions {
  // Where written frames are published (none: the pipeline alone, e.g. in tests).
  transport?: Transport
  // The event log lives in <dataDir>/events.
  dataDir: string
  initialSeq?: number
  replayWindowMs?: number
  maxDiskBytes?: number
  syncIntervalMs?: number
  syncBytes?: number
  segmentMaxBytes?: number
  // Segments rotate at this age (default: --replay-window / 8, 100 ms .. 1 h).
  segmentMaxAgeMs?: number
  leaseBlock?: number
  bootId?: string
  // Verify workers (0: one per CPU) and how many frames they hold at once.
  threads?: number
  capacity?: number
  lenient?: boolean
  // The key cache validation reads; a fresh one when absent (setKeys fills it either way).
  keyCache?: KeyCache
  // Events per host (undecided + unwritten) before its upstream is paused; resumes below half.
  hostPendingLimit?: number
  // Frame bytes pending in the whole pipeline before delivering hosts are paused.
  totalPendingBytes?: number
  // Retention and takedown scrubbing of the log, off the hot threads (0: never; default:
  // --replay-window / 8, 250 ms .. 60 s).
  maintenanceIntervalMs?: number
}

export class PipelineError extends Error {
  override name = 'PipelineError'
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

// Actions as native numbers them (native/relay/decision.h).
const Act = { accept: 0, drop: 1, retry: 2, replace: 3, emit: 4 } as const

// The native payload (native/napi/relay_js.cc).
interface NativePayload {
  n: number
  nums: Float64Array
  strs: (string | null | undefined)[]
  writtenIds: Float64Array
  writtenSeqs: Float64Array
  notice: boolean
  durableSeq: number
  hosts: Float64Array
  pauses: Float64Array
  published: boolean
  closed: boolean
  failure?: string
}

interface LogJobResult {
  ok: boolean
  reason?: string
  changed?: boolean
}

interface NativePipeline {
  open(opts: Record<string, unknown>): { ok: boolean; reason?: string; errno?: number; recovery?: Record<string, unknown> }
  attachUring(transport: object): boolean
  ingest(hostId: number, conn: number, frames: Buffer[]): void
  connectionClosed(conn: number): void
  decide(nums: Float64Array, frames: unknown[] | undefined): void
  close(): boolean
  stats(): Record<string, number>
  checkCursor(cursor: number): 'replay' | 'outdated' | 'future' | undefined
  takedown(did: string): Promise<LogJobResult>
  reverseTakedown(did: string): Promise<LogJobResult>
  maintain(nowMs?: number): Promise<LogJobResult>
  configure(opts: Record<string, number>): boolean
}

interface Names {
  types: EventType[]
  verdicts: string[]
  flags: string[]
  numStride: number
  strStride: number
}

interface Binding {
  RelayPipeline: new (onOutput: (p: NativePayload) => void) => NativePipeline
  relayNames(): Names
  takeLogs(): { records: { level: 'debug' | 'info' | 'warn' | 'error'; time: number; component: string; msg: string }[]; dropped: number }
}

function binding(): Binding {
  return loadNative() as unknown as Binding
}

let names: Names | undefined
const noFlags: readonly string[] = Object.freeze([])
const flagSets = new Map<number, readonly string[]>()

function flagsOf(bits: number): readonly string[] {
  if (bits === 0) return noFlags
  let set = flagSets.get(bits)
  if (set === undefined) {
    set = Object.freeze((names as Names).flags.filter((_, i) => (bits & (1 << i)) !== 0))
    flagSets.set(bits, set)
  }
  return set
}

// Synthetic connection ids for ingest() calls that name none: one per host, far above the
// transports' upstream ids.
const hostConnBase = 2 ** 48

// Summaries per onBatch call: a large native backlog is handed over in slices.
const maxBatchEvents = 8192

// native/relay/relay_core.h RelayOptions::host_pending_limit.
const defaultHostPendingLimit = 10_000

// Flow control as JS sees it. `pending` is native's count at its last report; `local` counts
// frames JS ingested since (uWS), so a flood is paused here without waiting for that report:
// ws hands over a whole socket read at once, and native's pause order would otherwise trail
// thousands of frames behind.
interface HostFlow {
  pending: number
  local: number
  paused: boolean
  upstreams: Set<Upstream>
}

export class NativeRelayPipeline implements RelayPipeline {
  readonly keyCache: KeyCache
  private readonly native: NativePipeline
  private readonly transport: Transport | undefined
  private handler: ((batch: PipelineBatch) => void) | undefined
  private waiting: PipelineBatch[] = []
  private readonly flows = new Map<number, HostFlow>()
  private readonly hostPendingLimit: number
  // Upstreams opened by connectUpstream, by id, with their host.
  private readonly upstreams = new Map<number, { upstream: Upstream; hostId: number }>()
  private pumpPublished: (() => void) | undefined
  private readonly jobs = new Set<Promise<unknown>>()
  private readonly timers: NodeJS.Timeout[] = []
  private closing: Promise<void> | undefined
  private closed = false
  private resolveClosed: (() => void) | undefined
  // The io_uring transport routes relay-mode upstreams natively.
  readonly routesNatively: boolean
  readonly recovery: Record<string, unknown> | undefined

  constructor(opts: CreatePipelineOptions) {
    names ??= binding().relayNames()
    this.transport = opts.transport
    this.hostPendingLimit = opts.hostPendingLimit ?? defaultHostPendingLimit
    this.keyCache = opts.keyCache ?? new KeyCache()
    this.native = new (binding().RelayPipeline)((p) => this.onOutput(p))
    const r = this.native.open({
      dataDir: opts.dataDir,
      initialSeq: opts.initialSeq,
      replayWindowMs: opts.replayWindowMs,
      maxDiskBytes: opts.maxDiskBytes,
      syncIntervalMs: opts.syncIntervalMs,
      syncBytes: opts.syncBytes,
      segmentMaxBytes: opts.segmentMaxBytes,
      segmentMaxAgeMs: opts.segmentMaxAgeMs,
      leaseBlock: opts.leaseBlock,
      bootId: opts.bootId,
      threads: opts.threads,
      capacity: opts.capacity,
      lenient: opts.lenient ?? false,
      keyCache: this.keyCache.handle,
      hostPendingLimit: opts.hostPendingLimit,
      totalPendingBytes: opts.totalPendingBytes,
    })
    if (!r.ok) {
      throw new PipelineError(`log_${r.reason ?? 'error'}`, `cannot open the event log in ${opts.dataDir}/events: ${r.reason ?? 'error'}${r.errno === undefined ? '' : ` (errno ${r.errno})`}`)
    }
    this.recovery = r.recovery
    this.routesNatively = this.attachTransport()
    // Retention follows the window's granularity (segments live about window / 8).
    const every = opts.maintenanceIntervalMs ?? Math.min(60_000, Math.max(250, Math.floor((opts.replayWindowMs ?? 72 * 3600_000) / 8)))
    if (every > 0) this.timers.push(setInterval(() => this.maintain(), every))
    this.timers.push(setInterval(() => drainNativeLogs(binding()), 500))
    for (const t of this.timers) t.unref()
  }

  onBatch(handler: (batch: PipelineBatch) => void): void {
    this.handler = handler
    const waiting = this.waiting
    this.waiting = []
    for (const b of waiting) this.deliver(b)
  }

  decide(decisions: Decision[]): void {
    if (this.closed || decisions.length === 0) return
    const nums = new Float64Array(decisions.length * 3)
    let frames: unknown[] | undefined
    let k = 0
    for (let i = 0; i < decisions.length; i++) {
      const d = decisions[i] as Decision
      const id = 'id' in d ? d.id : 0
      // Not an event of ours (e.g. -1 for "nothing"): skipped rather than failing the batch.
      if (d.action !== 'emit' && !(id > 0)) continue
      nums[k] = Act[d.action]
      nums[k + 1] = id
      nums[k + 2] = -1
      if (d.action === 'replace' || d.action === 'emit') {
        frames ??= []
        nums[k + 2] = frames.length
        frames.push(d.frame)
      }
      k += 3
    }
    if (k > 0) this.native.decide(k === nums.length ? nums : nums.subarray(0, k), frames)
  }

  ingest(hostId: number, frames: Buffer[]): void {
    this.ingestFrom(hostId, hostConnBase + hostId, frames)
  }

  connectUpstream(
    opts: UpstreamOptions,
    hostId: number,
    handlers: { onOpen: (info: UpstreamOpenInfo) => void; onClose: (info: UpstreamCloseInfo) => void },
  ): Upstream {
    if (this.transport === undefined) throw new Error('relay pipeline: no transport to connect with')
    let id = -1
    const upstream = this.transport.connectUpstream(
      { ...opts, route: { hostId, ingest: (conn, frames) => this.ingestFrom(hostId, conn, frames) } },
      {
        onOpen: handlers.onOpen,
        onMessages: () => {},
        onClose: (info) => {
          this.upstreams.delete(id)
          this.flows.get(hostId)?.upstreams.delete(upstream)
          this.native.connectionClosed(id)
          handlers.onClose(info)
        },
      },
    )
    id = upstream.id
    this.upstreams.set(id, { upstream, hostId })
    const flow = this.flow(hostId)
    flow.upstreams.add(upstream)
    if (flow.paused) upstream.pause?.()
    return upstream
  }

  pendingForHost(hostId: number): number {
    const f = this.flows.get(hostId)
    return f === undefined ? 0 : f.pending + f.local
  }

  setKeys(entries: KeyEntry[]): void {
    if (entries.length === 0) return
    this.keyCache.set(entries.map((e) => (e.key === null ? { did: e.did, key: null } : { did: e.did, key: e.key.multibase, type: e.key.type as 'Multikey' })))
  }

  deleteKeys(dids: string[]): void {
    if (dids.length > 0) this.keyCache.delete(dids)
  }

  keyVersions(dids: string[]): number[] {
    return this.keyCache.lookup(dids).map((l) => (l.state === 'missing' ? 0 : l.version))
  }

  takedown(did: string): void {
    this.track(this.native.takedown(did), 'takedown', did)
  }

  reverseTakedown(did: string): void {
    this.track(this.native.reverseTakedown(did), 'reverse takedown', did)
  }

  // 'replay' | 'outdated' | 'future' for ?cursor=N (protocol.md §1.6); undefined once closed.
  checkCursor(cursor: number): 'replay' | 'outdated' | 'future' | undefined {
    return this.closed ? undefined : this.native.checkCursor(cursor)
  }

  configureLog(opts: { replayWindowMs?: number; maxDiskBytes?: number; syncIntervalMs?: number; syncBytes?: number }): void {
    if (!this.closed) this.native.configure(opts as Record<string, number>)
  }

  stats(): Record<string, number> {
    return this.native.stats()
  }

  // Applies the decisions already given, writes and fsyncs what was accepted, delivers the last
  // notices, closes the log. Events still undecided are let go (their upstream cursors stayed
  // below them, so they come again).
  close(): Promise<void> {
    this.closing ??= this.shutDown()
    return this.closing
  }

  // The native object (other native modules take it: the uWS fan-out, consumer replay).
  get nativePipeline(): object {
    return this.native
  }

  private async shutDown(): Promise<void> {
    for (const t of this.timers) clearInterval(t)
    await Promise.allSettled([...this.jobs])
    if (!this.closed) {
      const done = new Promise<void>((resolve) => (this.resolveClosed = resolve))
      if (this.native.close()) await done
    }
    this.closed = true
    drainNativeLogs(binding())
  }

  private attachTransport(): boolean {
    const t = this.transport as (Transport & { nativeTransport?: object; attachPipeline?: (p: object) => (() => void) | undefined }) | undefined
    if (t === undefined) return false
    if (t.kind === 'uring' && t.nativeTransport !== undefined) {
      if (this.native.attachUring(t.nativeTransport)) return true
      logger.warn('relay', 'could not attach the pipeline to the io_uring transport; frames go through JS')
      return false
    }
    this.pumpPublished = t.attachPipeline?.(this.native)
    if (this.pumpPublished === undefined) logger.warn('relay', 'transport takes no native publisher: written frames are not sent to consumers')
    return false
  }

  private ingestFrom(hostId: number, conn: number, frames: Buffer[]): void {
    if (this.closed || frames.length === 0) return
    this.native.ingest(hostId, conn, frames)
    const f = this.flow(hostId)
    f.local += frames.length
    if (!f.paused && f.pending + f.local > this.hostPendingLimit) this.setPaused(f, true)
  }

  private flow(hostId: number): HostFlow {
    let f = this.flows.get(hostId)
    if (f === undefined) {
      f = { pending: 0, local: 0, paused: false, upstreams: new Set() }
      this.flows.set(hostId, f)
    }
    return f
  }

  private setPaused(f: HostFlow, paused: boolean): void {
    f.paused = paused
    for (const u of f.upstreams) {
      if (paused) u.pause?.()
      else u.resume?.()
    }
  }

  private maintain(): void {
    if (this.closing !== undefined) return
    this.track(this.native.maintain(), 'maintenance', undefined)
  }

  private track(p: Promise<LogJobResult>, what: string, did: string | undefined): void {
    const job = p.then(
      (r) => {
        if (!r.ok) logger.error('relay', `event log ${what} failed`, { reason: r.reason, did })
      },
      (err: unknown) => logger.error('relay', `event log ${what} threw`, { err: String(err), did }),
    )
    this.jobs.add(job)
    void job.finally(() => this.jobs.delete(job))
  }

  private onOutput(p: NativePayload): void {
    this.applyFlow(p)
    // Written frames reach the fan-out before anyone hears they are written.
    if (p.published) this.pumpPublished?.()
    if (p.failure !== undefined) logger.error('relay', 'the event log refuses writes; accepted events are not being written', { reason: p.failure })
    const written: WrittenNotice | null = p.notice ? { ids: Array.from(p.writtenIds), seqs: Array.from(p.writtenSeqs), durableSeq: p.durableSeq } : null
    const events = decodeEvents(p)
    if (events.length <= maxBatchEvents) {
      if (events.length > 0 || written !== null) this.deliver({ events, written })
    } else {
      for (let i = 0; i < events.length; i += maxBatchEvents) this.deliver({ events: events.slice(i, i + maxBatchEvents), written: i === 0 ? written : null })
    }
    if (p.closed) {
      this.closed = true
      this.resolveClosed?.()
    }
  }

  // Native's counts replace the local estimate. JS pauses on its own count or on native's order
  // (native also bounds the bytes of the whole table), and resumes only when both say so. With
  // io_uring native pauses its upstreams itself and no orders come here.
  private applyFlow(p: NativePayload): void {
    const h = p.hosts
    for (let i = 0; i < h.length; i += 3) {
      const hostId = h[i] as number
      const f = this.flow(hostId)
      f.pending = h[i + 1] as number
      f.local = 0
      const nativePaused = h[i + 2] === 1
      if (f.paused && !nativePaused && f.pending <= this.hostPendingLimit / 2) this.setPaused(f, false)
      if (f.pending === 0 && !f.paused && f.upstreams.size === 0) this.flows.delete(hostId)
    }
    const q = p.pauses
    for (let i = 0; i < q.length; i += 2) {
      const u = this.upstreams.get(q[i] as number)
      if (u === undefined) continue
      const f = this.flow(u.hostId)
      if (q[i + 1] === 1) {
        f.paused = true
        u.upstream.pause?.()
      } else if (f.pending + f.local <= this.hostPendingLimit / 2) {
        this.setPaused(f, false)
      }
    }
  }

  private deliver(batch: PipelineBatch): void {
    if (this.handler === undefined) {
      this.waiting.push(batch)
      return
    }
    try {
      this.handler(batch)
    } catch (err) {
      logger.error('relay', 'batch handler failed', { err: String((err as Error)?.stack ?? err) })
    }
  }
}

// One object literal per event type: V8 gives each a fast hidden class, and the policy reads
// fields of the same few shapes over and over.
function decodeEvents(p: NativePayload): EventSummary[] {
  const { types, verdicts, numStride: ns, strStride: ss } = names as Names
  const { nums, strs, n } = p
  const out: EventSummary[] = new Array(n)
  for (let i = 0; i < n; i++) {
    const o = i * ns
    const s = i * ss
    const type = types[nums[o + 3] as number] as EventType
    const id = nums[o] as number
    const hostId = nums[o + 1] as number
    const upstreamSeq = nums[o + 2] as number
    const verdict = verdicts[nums[o + 4] as number] as string
    const keyVersion = nums[o + 5] as number
    const frameBytes = nums[o + 6] as number
    const flags = flagsOf(nums[o + 7] as number)
    const did = strs[s] ?? ''
    const time = strs[s + 1] ?? ''
    switch (type) {
      case 'commit':
        out[i] = {
          id, hostId, upstreamSeq, type, did, verdict, keyVersion, time, frameBytes, flags,
          rev: strs[s + 2] ?? undefined, since: strs[s + 3] === undefined ? undefined : strs[s + 3],
          prevData: strs[s + 4] ?? undefined, dataCid: strs[s + 5] ?? undefined, commitCid: strs[s + 6] ?? undefined,
          opCount: nums[o + 8] as number,
        }
        break
      case 'sync':
        out[i] = {
          id, hostId, upstreamSeq, type, did, verdict, keyVersion, time, frameBytes, flags,
          rev: strs[s + 2] ?? undefined, dataCid: strs[s + 5] ?? undefined, commitCid: strs[s + 6] ?? undefined,
        }
        break
      case 'account':
        out[i] = { id, hostId, upstreamSeq, type, did, verdict, keyVersion, time, frameBytes, flags, active: nums[o + 9] === 1, status: strs[s + 2] ?? undefined }
        break
      case 'identity':
        out[i] = { id, hostId, upstreamSeq, type, did, verdict, keyVersion, time, frameBytes, flags, handle: strs[s + 2] ?? undefined }
        break
      case 'info':
      case 'error':
        out[i] = { id, hostId, upstreamSeq, type, did, verdict, keyVersion, time, frameBytes, flags, name: strs[s + 2] ?? '', message: strs[s + 3] ?? undefined }
        break
      default:
        out[i] = { id, hostId, upstreamSeq, type, did, verdict, keyVersion, time, frameBytes, flags }
    }
  }
  return out
}

export function createPipeline(opts: CreatePipelineOptions): NativeRelayPipeline {
  return new NativeRelayPipeline(opts)
}

// What lib/server.ts calls.
export const openPipeline: OpenPipeline = (opts: PipelineOptions) =>
  createPipeline({
    transport: opts.transport,
    dataDir: opts.dataDir,
    lenient: opts.lenient,
    replayWindowMs: opts.replayWindowMs,
    initialSeq: opts.initialSeq,
    ...(opts.threads === undefined ? {} : { threads: opts.threads }),
    ...(opts.hostPendingLimit === undefined ? {} : { hostPendingLimit: opts.hostPendingLimit }),
    ...(opts.maxDiskBytes === undefined ? {} : { maxDiskBytes: opts.maxDiskBytes }),
    ...(opts.syncIntervalMs === undefined ? {} : { syncIntervalMs: opts.syncIntervalMs }),
    ...(opts.syncBytes === undefined ? {} : { syncBytes: opts.syncBytes }),
  })
