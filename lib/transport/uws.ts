// The fallback transport, for hosts where io_uring is refused: uWebSockets.js serves HTTP and
// the firehose (it parses HTTP and frames WebSocket messages itself), `ws` connects to
// upstreams (uws-upstream.ts). Who gets which frame, send budgets and slow consumers are not
// decided here but by the native fan-out core (native/fanout, through native/napi/fanout.cc),
// the same code the io_uring driver runs: one crossing per batch, frames held once natively
// and shared by every consumer.
//
// Differences from the io_uring front door, all from uWebSockets.js 20.30 (the build that
// installs here): a request it cannot parse gets no answer and is dropped at uWS's ~10 s idle
// timeout (newer uWS answers 400; it is not installable here), and so is a request with over
// 50 headers; a consumer message over twice the limit is cut by uWS with 1006 (counted as
// message_too_big), one between the limit and that is closed by us with 1009.
import { STATUS_CODES } from 'node:http'
import uWS from 'uWebSockets.js'
import { xrpcError } from '../http/xrpc.js'
import { loadNative } from '../native.js'
import { logger } from '../logger.js'
import { connectWsUpstream, type WsUpstream } from './uws-upstream.js'
import {
  defaultLimits,
  serverHeader,
  type HttpRequest,
  type HttpResponse,
  type ConsumerStart,
  type ListenOptions,
  type ReplayLogSource,
  type RequestHandler,
  type Transport,
  type TransportLimits,
  type TransportOptions,
  type TransportStats,
  type Upstream,
  type UpstreamHandlers,
  type UpstreamOptions,
} from './types.js'

export const subscribeReposPath = '/xrpc/com.atproto.sync.subscribeRepos'

// native/napi/fanout.cc
interface FanoutPlan {
  published: Buffer[]
  base: number
  // Quadruples [id, op, a, b]: op 0 window frames a..a+b-1, op 1 messages[a..a+b-1] (frames
  // read from the event log, #info), op 2 end with extras[a].
  sends: Float64Array
  messages: Buffer[]
  extras: { error?: Buffer; code: number; wireReason: string; reason: string }[]
  more: boolean
}
interface FanoutCore {
  attach(query?: string): { id: number; start: ConsumerStart }
  cursorError(query: string): string | null
  setReplayLog(source: object, onWake: () => void): boolean
  close(): void
  remove(id: number): void
  pump(frames: Buffer[] | undefined, report: Float64Array | undefined, seqs?: number[]): FanoutPlan
  attachPublisher(pipeline: object): boolean
  stats(): Record<string, number>
}
type FanoutCoreClass = new (limits: { queueBytes: number; batchBytes?: number; readBytes?: number; maxLagSeqs?: number }) => FanoutCore

interface Consumer {
  ws: uWS.WebSocket<ConsumerData>
  data: ConsumerData
}

interface ConsumerData {
  id: number
  query: string
  remoteAddress: string
  // Set when the relay ends the connection, so the close handler reports our reason.
  closeReason?: string
  closed: boolean
  closeTimer?: NodeJS.Timeout
}

// A consumer we asked to close that does not read never drains its close frame; it gets
// this long before the socket is cut.
const closeGraceMs = 5_000
// uWS's own cap on what it buffers per socket: never reached in normal operation (the core
// stops handing out frames at its batch budget), it only keeps uWS from dropping messages.
const uwsMaxBackpressure = 64 * 1024 * 1024
// uWS sends pings when a consumer is idle this long and closes it if nothing answers.
const idleTimeoutS = 120

export class UwsTransport implements Transport {
  readonly kind = 'uws' as const
  private readonly limits: TransportLimits
  private readonly extraCaPem: string | undefined
  private readonly core: FanoutCore
  private app: uWS.TemplatedApp | undefined
  private listenSocket: uWS.us_listen_socket | undefined
  private readonly consumers = new Map<number, Consumer>()
  private readonly upstreams = new Set<WsUpstream>()
  // Published frames by index (frames[i - framesBase]): Buffers over the core's copy.
  private frames: Buffer[] = []
  private framesBase = 0
  // Consumers whose uWS buffered amount changed since the core last heard it.
  private readonly dirty = new Set<number>()
  private pumpScheduled = false
  private nextUpstreamId = 1
  private httpOpen = 0
  private closing = false
  private readonly counters = { submissions: 0, completions: 0, bytesIn: 0, bytesOut: 0, sendsDropped: 0 }

  constructor(opts: TransportOptions = {}) {
    this.limits = { ...defaultLimits, ...opts.limits }
    this.extraCaPem = opts.extraCaPem
    const FanoutCore = loadNative().FanoutCore as FanoutCoreClass
    this.core = new FanoutCore({
      queueBytes: this.limits.consumerSendQueueBytes,
      ...(this.limits.catchUpReadBytes === undefined ? {} : { readBytes: this.limits.catchUpReadBytes }),
      ...(this.limits.consumerMaxLagSeqs === undefined ? {} : { maxLagSeqs: this.limits.consumerMaxLagSeqs }),
    })
  }

  listen(opts: ListenOptions): Promise<{ port: number }> {
    if (this.app !== undefined) return Promise.reject(new Error('uws transport: listen called twice'))
    const app = uWS.App()
    this.app = app
    app.ws<ConsumerData>(subscribeReposPath, {
      compression: uWS.DISABLED,
      maxPayloadLength: 2 * this.limits.maxConsumerMessageBytes,
      maxBackpressure: uwsMaxBackpressure,
      closeOnBackpressureLimit: 0,
      idleTimeout: idleTimeoutS,
      sendPingsAutomatically: true,
      upgrade: (res, req, context) => this.onUpgrade(res, req, context),
      open: (ws) => this.onOpen(ws, opts),
      message: (ws, message) => this.onMessage(ws, message),
      drain: (ws) => this.markDirty(ws.getUserData().id),
      close: (ws, code, message) => this.onClose(ws, code, message, opts),
    })
    app.any('/*', (res, req) => this.onRequest(res, req, opts.handler))
    return new Promise((resolve, reject) => {
      app.listen(opts.host, opts.port, (socket) => {
        if (socket === false) {
          reject(Object.assign(new Error(`cannot listen on ${opts.host}:${opts.port} (address in use or not permitted)`), { code: 'listen_failed' }))
          return
        }
        this.listenSocket = socket
        resolve({ port: uWS.us_socket_local_port(socket as unknown as uWS.us_socket) })
      })
    })
  }

  broadcast(frames: Buffer[], seqs?: number[]): void {
    if (frames.length > 0) this.pump(frames, seqs)
  }

  // Consumer replay: cursors are decided against this log; its reads run on the native replay
  // thread, which wakes us (a threadsafe function) when chunks are ready to send.
  setReplayLog(source: ReplayLogSource): void {
    this.core.setReplayLog(source, () => {
      if (!this.closing) this.pump(undefined)
    })
  }

  // The relay pipeline (lib/relay/pipeline.ts) publishes natively: the frames it wrote to its
  // log are taken by the fan-out core on each pump (no copy through JS). Returns the function
  // the pipeline calls when it has queued some, or undefined if `pipeline` is not one.
  attachPipeline(pipeline: object): (() => void) | undefined {
    if (!this.core.attachPublisher(pipeline)) return undefined
    return () => this.pump(undefined)
  }

  connectUpstream(opts: UpstreamOptions, handlers: UpstreamHandlers): Upstream {
    const upstream = connectWsUpstream(opts, handlers, {
      id: this.nextUpstreamId++,
      extraCaPem: this.extraCaPem,
      maxMessageBytes: this.limits.upstreamMaxMessageBytes,
      onEnd: (u) => this.upstreams.delete(u),
      onBytesIn: (n) => (this.counters.bytesIn += n),
    })
    this.upstreams.add(upstream)
    return upstream
  }

  stats(): TransportStats {
    const core = this.core.stats()
    let buffered = 0
    for (const c of this.consumers.values()) buffered += c.ws.getBufferedAmount()
    return {
      ...this.counters,
      connectionsOpen: this.consumers.size + this.httpOpen + this.upstreams.size,
      consumers: this.consumers.size,
      // Lag held in the core (frames shared by all consumers) plus private copies in uWS.
      queuedSendBytes: (core.queuedBytes ?? 0) + buffered,
      uwsBufferedBytes: buffered,
      retainedBytes: core.retainedBytes ?? 0,
      retainedFrames: core.retainedFrames ?? 0,
      tooSlowEvictions: core.tooSlowEvictions ?? 0,
      consumersLive: core.consumersLive ?? 0,
      consumersCatchingUp: core.consumersCatchingUp ?? 0,
      catchUpChunkBytes: core.catchUpChunkBytes ?? 0,
      catchUpReads: core.catchUpReads ?? 0,
      catchUpBytesRead: core.catchUpBytesRead ?? 0,
      catchUpFramesSent: core.catchUpFramesSent ?? 0,
      catchUpFallbacks: core.catchUpFallbacks ?? 0,
      catchUpHandoffs: core.catchUpHandoffs ?? 0,
      tooSlowQueue: core.tooSlowQueue ?? 0,
      tooSlowLag: core.tooSlowLag ?? 0,
      tooSlowGap: core.tooSlowGap ?? 0,
      replayReadErrors: core.replayReadErrors ?? 0,
      cursorLive: core.cursorLive ?? 0,
      cursorReplay: core.cursorReplay ?? 0,
      cursorOutdated: core.cursorOutdated ?? 0,
      cursorFuture: core.cursorFuture ?? 0,
      cursorBad: core.cursorBad ?? 0,
      upstreams: this.upstreams.size,
    }
  }

  async close(): Promise<void> {
    if (this.closing) return
    this.closing = true
    if (this.listenSocket !== undefined) uWS.us_listen_socket_close(this.listenSocket)
    for (const u of [...this.upstreams]) u.close(1001, 'shutdown')
    for (const c of [...this.consumers.values()]) this.endConsumer(c, 1001, 'shutdown', 'shutdown')
    const deadline = Date.now() + closeGraceMs
    while ((this.consumers.size > 0 || this.upstreams.size > 0) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10))
    }
    for (const u of [...this.upstreams]) u.terminate()
    this.core.close()
    // close() exists in uWS.js 20.30 but is missing from its type declarations.
    ;(this.app as unknown as { close?: () => void } | undefined)?.close?.()
  }

  // --- the firehose -------------------------------------------------------------------------

  private onUpgrade(res: uWS.HttpResponse, req: uWS.HttpRequest, context: uWS.us_socket_context_t): void {
    if (this.closing) {
      res.writeStatus('503 Service Unavailable').writeHeader('Server', serverHeader).end('', true)
      return
    }
    // A bad ?cursor= is answered before the upgrade, by the same native check as io_uring's.
    const query = req.getQuery() ?? ''
    const badCursor = this.core.cursorError(query)
    if (badCursor !== null) {
      res.cork(() => {
        res.writeStatus('400 Bad Request').writeHeader('Server', serverHeader).writeHeader('Content-Type', 'application/json; charset=utf-8').end(badCursor, true)
      })
      return
    }
    const data: ConsumerData = {
      id: 0,
      query,
      remoteAddress: Buffer.from(res.getRemoteAddressAsText()).toString(),
      closed: false,
    }
    // Status first: in uWS 20.30 a header written before any status makes the answer a 200.
    res.writeStatus('101 Switching Protocols').writeHeader('Server', serverHeader)
    res.upgrade(data, req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'), context)
  }

  private onOpen(ws: uWS.WebSocket<ConsumerData>, opts: ListenOptions): void {
    const data = ws.getUserData()
    const { id, start } = this.core.attach(data.query)
    data.id = id
    this.consumers.set(data.id, { ws, data })
    opts.onConsumerOpen?.({ id: data.id, remoteAddress: data.remoteAddress, query: data.query, start })
    // A replay, #info or FutureCursor may be waiting for it already.
    if (start !== 'live') this.markDirty(data.id)
  }

  private onMessage(ws: uWS.WebSocket<ConsumerData>, message: ArrayBuffer): void {
    // Consumers have nothing to say (the server ignores what they send) beyond a bound.
    this.counters.bytesIn += message.byteLength
    if (message.byteLength <= this.limits.maxConsumerMessageBytes) return
    const c = this.consumers.get(ws.getUserData().id)
    if (c !== undefined) this.endConsumer(c, 1009, 'message too big', 'message_too_big')
  }

  private onClose(ws: uWS.WebSocket<ConsumerData>, code: number, message: ArrayBuffer, opts: ListenOptions): void {
    const data = ws.getUserData()
    data.closed = true
    clearTimeout(data.closeTimer)
    this.consumers.delete(data.id)
    this.dirty.delete(data.id)
    this.core.remove(data.id)
    // uWS cuts an oversized message itself with 1006 and this text.
    const uwsText = Buffer.from(message).toString()
    const reason = data.closeReason ?? (uwsText.startsWith('Received too big message') ? 'message_too_big' : code === 1006 ? 'connection_lost' : 'peer_closed')
    opts.onConsumerClose?.({ id: data.id, code, reason })
  }

  private endConsumer(c: Consumer, code: number, wireReason: string, reason: string): void {
    if (c.data.closed || c.data.closeReason !== undefined) return
    c.data.closeReason = reason
    c.ws.end(code, wireReason)
    if (!c.data.closed) {
      c.data.closeTimer = setTimeout(() => {
        if (!c.data.closed) c.ws.close()
      }, closeGraceMs)
    }
  }

  private markDirty(id: number): void {
    this.dirty.add(id)
    this.schedulePump()
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return
    this.pumpScheduled = true
    setImmediate(() => {
      this.pumpScheduled = false
      if (this.dirty.size > 0) this.pump(undefined)
    })
  }

  // Publishes (if given), then sends what the core hands out, round after round while some
  // consumer stopped at its estimated budget but its socket took the bytes at once. After
  // many rounds the rest waits for the next turn of the event loop, so one huge broadcast
  // cannot starve everything else.
  private pump(frames: Buffer[] | undefined, seqs?: number[]): void {
    for (let round = 0; ; round++) {
      if (round === 64) return this.schedulePump()
      const plan = this.core.pump(frames, this.takeReport(), seqs)
      frames = undefined
      seqs = undefined
      for (const f of plan.published) this.frames.push(f)
      this.execute(plan)
      if (plan.base > this.framesBase) {
        this.frames.splice(0, plan.base - this.framesBase)
        this.framesBase = plan.base
      }
      if (!plan.more) return
    }
  }

  private takeReport(): Float64Array | undefined {
    if (this.dirty.size === 0) return undefined
    const report = new Float64Array(this.dirty.size * 2)
    let i = 0
    for (const id of this.dirty) {
      const c = this.consumers.get(id)
      report[i++] = id
      report[i++] = c === undefined ? 0 : c.ws.getBufferedAmount()
    }
    this.dirty.clear()
    return report
  }

  // One consumer's entries are adjacent and in wire order: window frames by index (op 0),
  // messages (op 1: frames read from the event log, #info), and last its end (op 2).
  private execute(plan: FanoutPlan): void {
    const { sends, messages, extras } = plan
    for (let i = 0; i < sends.length; ) {
      const id = sends[i]
      let end = i
      while (end < sends.length && sends[end] === id) end += 4
      const c = this.consumers.get(id)
      const from = i
      i = end
      if (c === undefined || c.data.closed) continue
      let extra: FanoutPlan['extras'][number] | undefined
      c.ws.cork(() => {
        for (let k = from; k < end; k += 4) {
          const op = sends[k + 1]
          const a = sends[k + 2]
          const b = sends[k + 3]
          if (op === 0) for (let n = 0; n < b; n++) this.send(c, this.frames[a - this.framesBase + n])
          else if (op === 1) for (let n = 0; n < b; n++) this.send(c, messages[a + n])
          else {
            extra = extras[a]
            if (extra.error !== undefined) this.send(c, extra.error)
          }
        }
      })
      if (extra !== undefined) this.endConsumer(c, extra.code, extra.wireReason, extra.reason)
      else this.dirty.add(c.data.id)
    }
  }


  private send(c: Consumer, payload: Buffer): void {
    const status = c.ws.send(payload, true, false)
    this.counters.submissions++
    this.counters.bytesOut += payload.length
    if (status === 1) this.counters.completions++
    else if (status === 2) this.counters.sendsDropped++
  }

  // --- every other request ------------------------------------------------------------------

  private onRequest(res: uWS.HttpResponse, req: uWS.HttpRequest, handler: RequestHandler): void {
    const state = { aborted: false, answered: false }
    this.httpOpen++
    res.onAborted(() => {
      state.aborted = true
      if (!state.answered) this.httpOpen--
    })
    // Everything from `req` is copied now: uWS reuses it once this callback returns.
    const parsed = readRequest(req, res, this.limits)
    if ('error' in parsed) {
      this.respond(res, state, parsed.error, true)
      return
    }
    const chunks: Buffer[] = []
    let size = 0
    res.onData((chunk, isLast) => {
      if (state.answered) return
      size += chunk.byteLength
      if (size > this.limits.maxBodyBytes) {
        this.respond(res, state, xrpcError(413, 'PayloadTooLarge', `body over ${this.limits.maxBodyBytes} bytes`), true)
        return
      }
      // Copy: the ArrayBuffer is detached when this callback returns.
      if (chunk.byteLength > 0) chunks.push(Buffer.from(new Uint8Array(chunk)))
      if (!isLast) return
      const request: HttpRequest = { ...parsed.request, body: Buffer.concat(chunks, size) }
      this.counters.bytesIn += size
      Promise.resolve()
        .then(() => handler(request))
        .then(
          (response) => this.respond(res, state, response, false),
          (err: unknown) => {
            logger.error('http', 'handler failed', { path: request.path, err: String((err as Error)?.stack ?? err) })
            this.respond(res, state, xrpcError(500, 'InternalServerError', 'internal server error'), false)
          },
        )
    })
  }

  private respond(res: uWS.HttpResponse, state: { aborted: boolean; answered: boolean }, response: HttpResponse, closeConnection: boolean): void {
    if (state.aborted || state.answered) return
    state.answered = true
    this.httpOpen--
    const body = response.body ?? ''
    this.counters.submissions++
    this.counters.completions++
    this.counters.bytesOut += typeof body === 'string' ? Buffer.byteLength(body) : body.length
    res.cork(() => {
      res.writeStatus(`${response.status} ${STATUS_CODES[response.status] ?? ''}`)
      res.writeHeader('Server', serverHeader)
      for (const [name, value] of Object.entries(response.headers ?? {})) {
        if (!transportHeaders.has(name.toLowerCase())) res.writeHeader(name, value)
      }
      res.end(body, closeConnection)
    })
  }
}

// Headers the transport writes itself (types.ts, HttpResponse).
const transportHeaders = new Set(['server', 'content-length', 'date', 'connection', 'transfer-encoding'])

type ParsedRequest = { request: Omit<HttpRequest, 'body'> } | { error: HttpResponse }

// The strictness uWS leaves to us: header size, repeated or malformed Content-Length, and
// Content-Length beside Transfer-Encoding (request smuggling) get 4xx before any body is read.
function readRequest(req: uWS.HttpRequest, res: uWS.HttpResponse, limits: TransportLimits): ParsedRequest {
  const method = req.getMethod().toUpperCase()
  const path = req.getUrl()
  const query = req.getQuery() ?? ''
  const headers: Record<string, string> = {}
  let headerBytes = method.length + path.length + query.length + 12
  let contentLengths = 0
  req.forEach((name, value) => {
    headerBytes += name.length + value.length + 4
    if (name === 'content-length') contentLengths++
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value
  })
  if (headerBytes > limits.maxHeaderBytes) return { error: xrpcError(431, 'RequestHeaderFieldsTooLarge', `headers over ${limits.maxHeaderBytes} bytes`) }
  const length = headers['content-length']
  if (contentLengths > 1 || (length !== undefined && !/^[0-9]{1,15}$/.test(length))) {
    return { error: xrpcError(400, 'BadRequest', 'malformed or repeated Content-Length') }
  }
  if (length !== undefined && headers['transfer-encoding'] !== undefined) {
    return { error: xrpcError(400, 'BadRequest', 'Content-Length with Transfer-Encoding') }
  }
  if (length !== undefined && Number(length) > limits.maxBodyBytes) {
    return { error: xrpcError(413, 'PayloadTooLarge', `body over ${limits.maxBodyBytes} bytes`) }
  }
  const remoteAddress = Buffer.from(res.getRemoteAddressAsText()).toString()
  return { request: { method, path, query, headers, remoteAddress } }
}
