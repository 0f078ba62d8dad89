// The io_uring transport: a thin TypeScript face over the native ring thread (native/io,
// native/napi/transport.cc). Sockets, HTTP parsing, WebSocket framing, TLS and the fan-out
// all run natively on that thread; JS sees one batch of events per ring turn and answers
// with commands (respond, broadcast, connect, close), never one crossing per frame.
//
// Exports (the contract select.ts and the shared suite use):
//   probeUring(): UringProbe
//     Sets up and probes a throwaway ring: { ok: true, message, mode } or
//     { ok: false, errno, code: 'EPERM'|'ENOSYS'|'EINVAL'|..., message }. Env
//     RINGLAY_URING_FAIL=EPERM|ENOSYS|EINVAL makes it (and createUringTransport) fail with
//     that errno without calling the kernel.
//   class UringUnavailableError extends Error { code, errno }
//     Thrown by createUringTransport when the ring cannot be set up.
//   createUringTransport(opts?: UringTransportOptions): UringTransport  (kind 'uring')
//     Synchronous: sets the ring up (or throws UringUnavailableError) and starts the ring
//     thread.
import { lookup } from 'node:dns/promises'
import { isIP } from 'node:net'
import { rootCertificates } from 'node:tls'
import { xrpcError } from '../http/xrpc.js'
import { drainNativeLogs, logger } from '../logger.js'
import { loadNative } from '../native.js'
import {
  defaultLimits,
  serverHeader,
  type ConsumerCloseInfo,
  type ConsumerInfo,
  type ConsumerStart,
  type HttpRequest,
  type HttpResponse,
  type ListenOptions,
  type ReplayLogSource,
  type Transport,
  type TransportLimits,
  type TransportOptions,
  type TransportStats,
  type Upstream,
  type UpstreamHandlers,
  type UpstreamOptions,
} from './types.js'

export interface UringProbe {
  ok: boolean
  errno?: number
  code?: string
  message: string
  // How the ring was set up when ok: 'single_issuer_defer_taskrun', 'coop_taskrun', 'plain'.
  mode?: string
}

export type BridgeKind = 'tsfn' | 'uvpoll'

export interface UringTransportOptions extends TransportOptions {
  // How native events reach JS (HACKING.md, "Ring thread → JS"). Env RINGLAY_BRIDGE overrides.
  bridge?: BridgeKind
  // Ring and receive-buffer sizing; the defaults suit a relay.
  ringEntries?: number
  bufferCount?: number
  bufferSize?: number
  // Ping interval for idle consumers and the grace for closing handshakes (tests shorten them).
  consumerPingIntervalMs?: number
  closeTimeoutMs?: number
}

export class UringUnavailableError extends Error {
  override name = 'UringUnavailableError'
  constructor(
    readonly code: string,
    readonly errno: number,
    message: string,
  ) {
    super(message)
  }
}

// Event kinds, as native/napi/transport.cc numbers them.
export const EventKind = {
  listening: 1,
  listenFailed: 2,
  request: 3,
  consumerOpen: 4,
  consumerClose: 5,
  upstreamOpen: 6,
  upstreamMessages: 7,
  upstreamClose: 8,
  stopped: 9,
  bench: 10,
} as const

export interface NativeEvent {
  kind: number
  id?: number
  port?: number
  code?: number | string
  message?: string
  conn?: number
  seq?: number
  method?: string
  path?: string
  query?: string
  remote?: string
  headers?: Record<string, string>
  body?: Buffer
  reason?: string
  status?: number
  messages?: Buffer[]
  errorCode?: string
  errorMessage?: string
  error?: string
  t?: number
  start?: string
}

interface NativeUpstreamSpec {
  tls: boolean
  host: string
  port: number
  address: string
  hostHeader: string
  path: string
  headers: string[]
  maxMessageBytes: number
  pingIntervalMs: number
  handshakeTimeoutMs: number
  // Relay mode: the host id the relay pipeline attached to this transport files messages under.
  relayHost?: number
}

export interface NativeUring {
  listen(id: number, host: string, port: number): void
  respond(conn: number, seq: number, status: number, headers: string[], body: Buffer | undefined): void
  broadcast(frames: Buffer[], seqs?: number[]): void
  setReplayLog(source: object): void
  connect(id: number, spec: NativeUpstreamSpec): void
  closeUpstream(id: number, code: number, reason: string): void
  stop(immediate: boolean): void
  stats(into: Float64Array): void
  benchEvents(count: number, batch: number): void
  readonly bridge: string
}

type NativeUringClass = new (options: Record<string, unknown>, onEvents: (events: NativeEvent[]) => void) => NativeUring

interface NativeBinding {
  probeUring(): UringProbe
  uringStatNames(): string[]
  UringTransport: NativeUringClass
  takeLogs(): { records: { level: 'debug' | 'info' | 'warn' | 'error'; time: number; component: string; msg: string }[]; dropped: number }
}

function binding(): NativeBinding {
  return loadNative() as unknown as NativeBinding
}

export function probeUring(): UringProbe {
  return binding().probeUring()
}

export function createUringTransport(opts: UringTransportOptions = {}): UringTransport {
  return new UringTransport(opts)
}

// stats() builds a fresh object per call (callers keep snapshots) with ~45 keys, and
// publishers poll it in tight loops (bench/fanout.ts). Assigned key by key, V8 turns such an
// object into a slow dictionary after a dozen keys, and the polling JS thread then competes
// with the ring thread for the CPU; one object literal, compiled once from the native list of
// names (so the order cannot drift from native/napi/transport.cc), keeps it a fast object.
let statsBuilder: ((values: Float64Array) => TransportStats) | undefined
function buildStats(values: Float64Array): TransportStats {
  if (statsBuilder === undefined) {
    const fields = binding()
      .uringStatNames()
      .map((name, i) => `${JSON.stringify(name)}: v[${i}]`)
    statsBuilder = new Function('v', `return { ${fields.join(', ')} }`) as (values: Float64Array) => TransportStats
  }
  return statsBuilder(values)
}

// Headers the transport writes itself (types.ts, HttpResponse); native drops them too.
const transportHeaders = new Set(['server', 'content-length', 'date', 'connection', 'transfer-encoding'])

interface UpstreamEntry {
  handlers: UpstreamHandlers
}

export class UringTransport implements Transport {
  readonly kind = 'uring' as const
  private readonly native: NativeUring
  private readonly limits: TransportLimits
  private listener: ListenOptions | undefined
  private readonly pendingListens = new Map<number, { resolve: (v: { port: number }) => void; reject: (e: Error) => void }>()
  private readonly upstreams = new Map<number, UpstreamEntry>()
  private nextId = 1
  private stopped = false
  private stopWaiters: (() => void)[] = []
  private readonly logTimer: NodeJS.Timeout
  private readonly statValues = new Float64Array(binding().uringStatNames().length)
  // For bench/bridge: receives kind `bench` events.
  onBench: ((events: NativeEvent[]) => void) | undefined

  constructor(opts: UringTransportOptions = {}) {
    this.limits = { ...defaultLimits, ...opts.limits }
    const bridge = (process.env.RINGLAY_BRIDGE as BridgeKind | undefined) ?? opts.bridge ?? 'tsfn'
    const NativeClass = binding().UringTransport
    try {
      this.native = new NativeClass(
        {
          limits: {
            ...this.limits,
            consumerPingIntervalMs: opts.consumerPingIntervalMs,
            closeTimeoutMs: opts.closeTimeoutMs,
          },
          caPem: rootCertificates.join('\n') + '\n' + (opts.extraCaPem ?? ''),
          serverHeader,
          userAgent: serverHeader,
          bridge,
          ringEntries: opts.ringEntries,
          bufferCount: opts.bufferCount,
          bufferSize: opts.bufferSize,
        },
        (events) => this.onEvents(events),
      )
    } catch (err) {
      const e = err as Error & { code?: string; errno?: number }
      if (typeof e.code === 'string' && typeof e.errno === 'number') throw new UringUnavailableError(e.code, e.errno, e.message)
      throw err
    }
    this.logTimer = setInterval(() => drainNativeLogs(binding()), 500)
    this.logTimer.unref()
  }

  get bridge(): string {
    return this.native.bridge
  }

  // The native object, for lib/relay/pipeline.ts to attach the relay pipeline to (relay-mode
  // upstreams then deliver natively, written frames are published on the ring).
  get nativeTransport(): object {
    return this.native
  }

  listen(opts: ListenOptions): Promise<{ port: number }> {
    if (this.listener !== undefined) return Promise.reject(new Error('uring transport: listen called twice'))
    if (this.stopped) return Promise.reject(new Error('uring transport: closed'))
    this.listener = opts
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      this.pendingListens.set(id, { resolve, reject })
      // The ring takes IP literals only; a name ("localhost") is resolved here, off the ring.
      const host = opts.host === '' || isIP(opts.host) !== 0 ? Promise.resolve(opts.host) : lookup(opts.host).then((a) => a.address)
      host.then(
        (address) => this.native.listen(id, address, opts.port),
        (err: Error) => {
          this.pendingListens.delete(id)
          this.listener = undefined
          reject(Object.assign(new Error(`cannot resolve ${opts.host}: ${err.message}`), { code: 'listen_failed' }))
        },
      )
    })
  }

  broadcast(frames: Buffer[], seqs?: number[]): void {
    if (frames.length > 0 && !this.stopped) this.native.broadcast(frames, seqs)
  }

  // Consumer replay (native/relay/replay_reader.h): cursors are decided against this log and
  // catching-up consumers read it on the replay thread, all natively on the ring's side.
  setReplayLog(source: ReplayLogSource): void {
    this.native.setReplayLog(source)
  }

  connectUpstream(opts: UpstreamOptions, handlers: UpstreamHandlers): Upstream {
    const id = this.nextId++
    const url = new URL(opts.url)
    const tls = url.protocol === 'wss:'
    if (!tls && url.protocol !== 'ws:') throw new Error(`upstream URL must be ws:// or wss:// (got ${opts.url})`)
    const headers: string[] = []
    for (const [name, value] of Object.entries(opts.headers ?? {})) headers.push(name, value)
    const upstream: Upstream = {
      id,
      close: (code = 1000, reason = '') => {
        if (this.upstreams.has(id)) this.native.closeUpstream(id, code, reason)
      },
    }
    if (this.stopped) {
      queueMicrotask(() => handlers.onClose({ code: 1006, reason: '', error: { code: 'closed', message: 'transport closed' } }))
      return upstream
    }
    const route = opts.route
    // Without an attached pipeline the ring hands relay-mode messages to JS: they go to the route.
    this.upstreams.set(id, { handlers: route === undefined ? handlers : { ...handlers, onMessages: (frames) => route.ingest(id, frames) } })
    this.native.connect(id, {
      tls,
      host: url.hostname,
      port: url.port === '' ? (tls ? 443 : 80) : Number(url.port),
      address: opts.address,
      hostHeader: url.host,
      path: (url.pathname === '' ? '/' : url.pathname) + url.search,
      headers,
      maxMessageBytes: opts.maxMessageBytes ?? this.limits.upstreamMaxMessageBytes,
      pingIntervalMs: opts.pingIntervalMs ?? 30_000,
      handshakeTimeoutMs: opts.handshakeTimeoutMs ?? 10_000,
      ...(route === undefined ? {} : { relayHost: route.hostId }),
    })
    return upstream
  }

  stats(): TransportStats {
    this.native.stats(this.statValues)
    return buildStats(this.statValues)
  }

  // Stops the ring thread: listeners close, consumers get 1001, upstreams our close frame;
  // whatever is still open after the close timeout is cut. Resolves once the thread is gone.
  close(): Promise<void> {
    if (this.stopped) return Promise.resolve()
    return new Promise((resolve) => {
      this.stopWaiters.push(resolve)
      this.native.stop(false)
    })
  }

  // bench/bridge: `count` synthetic events from the ring thread, `batch` per ring turn.
  benchEvents(count: number, batch: number): void {
    this.native.benchEvents(count, batch)
  }

  private onEvents(events: NativeEvent[]): void {
    drainNativeLogs(binding())
    let bench: NativeEvent[] | undefined
    for (const e of events) {
      try {
        if (e.kind === EventKind.bench) (bench ??= []).push(e)
        else this.onEvent(e)
      } catch (err) {
        logger.error('transport', 'event handler failed', { kind: e.kind, err: String((err as Error)?.stack ?? err) })
      }
    }
    if (bench !== undefined) this.onBench?.(bench)
  }

  private onEvent(e: NativeEvent): void {
    switch (e.kind) {
      case EventKind.request:
        this.onRequest(e)
        break
      case EventKind.consumerOpen: {
        const info: ConsumerInfo = { id: e.id!, remoteAddress: e.remote ?? '', query: e.query ?? '' }
        if (e.start !== undefined) info.start = e.start as ConsumerStart
        this.listener?.onConsumerOpen?.(info)
        break
      }
      case EventKind.consumerClose: {
        const info: ConsumerCloseInfo = { id: e.id!, code: Number(e.code), reason: e.reason ?? '' }
        this.listener?.onConsumerClose?.(info)
        break
      }
      case EventKind.upstreamOpen:
        this.upstreams.get(e.id!)?.handlers.onOpen?.({ status: e.status ?? 101, headers: e.headers ?? {} })
        break
      case EventKind.upstreamMessages:
        this.upstreams.get(e.id!)?.handlers.onMessages(e.messages ?? [])
        break
      case EventKind.upstreamClose: {
        const entry = this.upstreams.get(e.id!)
        if (entry === undefined) break
        this.upstreams.delete(e.id!)
        const error = e.errorCode === undefined ? undefined : { code: e.errorCode, message: e.errorMessage ?? '' }
        entry.handlers.onClose({ code: Number(e.code), reason: e.reason ?? '', ...(error === undefined ? {} : { error }) })
        break
      }
      case EventKind.listening:
        this.pendingListens.get(e.id!)?.resolve({ port: e.port! })
        this.pendingListens.delete(e.id!)
        break
      case EventKind.listenFailed: {
        const err = Object.assign(new Error(e.message ?? 'listen failed'), { code: 'listen_failed', errno: e.code })
        this.pendingListens.get(e.id!)?.reject(err)
        this.pendingListens.delete(e.id!)
        this.listener = undefined
        break
      }
      case EventKind.stopped:
        this.onStopped(e)
        break
    }
  }

  private onStopped(e: NativeEvent): void {
    this.stopped = true
    clearInterval(this.logTimer)
    if (e.error !== undefined) logger.error('transport', 'io_uring ring thread failed', { error: e.error })
    for (const p of this.pendingListens.values()) p.reject(new Error('uring transport: stopped'))
    this.pendingListens.clear()
    // The driver reports every upstream it closes; any left here never reached the ring.
    for (const [id, entry] of this.upstreams) {
      this.upstreams.delete(id)
      entry.handlers.onClose({ code: 1006, reason: '', error: { code: 'closed', message: 'transport closed' } })
    }
    for (const w of this.stopWaiters.splice(0)) w()
  }

  private onRequest(e: NativeEvent): void {
    const handler = this.listener?.handler
    const conn = e.conn!
    const seq = e.seq!
    if (handler === undefined) return
    const request: HttpRequest = {
      method: e.method!,
      path: e.path!,
      query: e.query ?? '',
      headers: e.headers ?? {},
      body: e.body ?? Buffer.alloc(0),
      remoteAddress: e.remote ?? '',
    }
    let result: HttpResponse | Promise<HttpResponse>
    try {
      result = handler(request)
    } catch (err) {
      result = Promise.reject(err)
    }
    if (result instanceof Promise) {
      result.then(
        (response) => this.respond(conn, seq, response),
        (err: unknown) => this.failRequest(conn, seq, request, err),
      )
    } else {
      this.respond(conn, seq, result)
    }
  }

  private failRequest(conn: number, seq: number, request: HttpRequest, err: unknown): void {
    logger.error('http', 'handler failed', { path: request.path, err: String((err as Error)?.stack ?? err) })
    this.respond(conn, seq, xrpcError(500, 'InternalServerError', 'internal server error'))
  }

  private respond(conn: number, seq: number, response: HttpResponse): void {
    if (this.stopped) return
    const headers: string[] = []
    for (const [name, value] of Object.entries(response.headers ?? {})) {
      if (!transportHeaders.has(name.toLowerCase())) headers.push(name, String(value))
    }
    const body = response.body === undefined ? undefined : typeof response.body === 'string' ? Buffer.from(response.body) : response.body
    this.native.respond(conn, seq, response.status, headers, body)
  }
}
