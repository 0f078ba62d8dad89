// The one interface both transports implement: the io_uring driver (lib/transport/uring.ts,
// native/io) and the uWebSockets.js + ws fallback (lib/transport/uws.ts). Policy that must
// not differ between them (who gets which frame, send-queue bounds, slow consumers) lives in
// the native fan-out core (native/fanout), which both drivers use; one test suite
// (test/lib/transport/) runs against both.
//
// Additions since the first version (additive only): `serverHeader`, the Server header value
// both transports write on every response, the 101 included. UpstreamOptions.route (upstream
// messages go to the relay pipeline instead of onMessages) and Upstream.pause/resume (the
// pipeline's flow control), for lib/relay/pipeline.ts. Consumer replay (issue #4):
// Transport.setReplayLog, broadcast's `seqs`, ConsumerInfo.start, TransportLimits
// catchUpReadBytes / consumerMaxLagSeqs, and the replay/catch-up stats.

export type TransportKind = 'uring' | 'uws'

export interface HttpRequest {
  method: string
  // Path without the query string, e.g. "/xrpc/com.atproto.sync.listHosts".
  path: string
  // Raw query string without the leading "?" ("" when absent).
  query: string
  // Lower-case header names; repeated headers joined with ", ".
  headers: Record<string, string>
  body: Buffer
  remoteAddress: string
}

// Contains "atproto-relay": indigo's relay-loop guard marks an upstream whose Server header
// says so as a relay and refuses to subscribe to it (indigo-relay.md §1.2).
export const serverHeader = 'ringlay (atproto-relay)'

export interface HttpResponse {
  status: number
  // The transport adds Server (always containing "atproto-relay"), Content-Length, Date and
  // Connection; a handler sets Content-Type and anything else.
  headers?: Record<string, string>
  body?: string | Buffer
}

export type RequestHandler = (req: HttpRequest) => HttpResponse | Promise<HttpResponse>

export interface TransportLimits {
  // HTTP request line + headers; larger requests get 431 (headers) or 400 and are closed.
  maxHeaderBytes: number
  // HTTP request bodies; larger get 413.
  maxBodyBytes: number
  // Largest WebSocket message a consumer may send us (they should send nothing); over it the
  // connection closes with 1009 and the reason is counted.
  maxConsumerMessageBytes: number
  // Bytes queued for one consumer (not yet accepted by its socket) before it is "too slow".
  consumerSendQueueBytes: number
  // Largest upstream WebSocket message (atproto: 5 MB); over it the upstream closes with 1009.
  upstreamMaxMessageBytes: number
  // Consumer replay (once a replay log is set): one event-log read per catching-up consumer
  // (the most log bytes it holds), and the hard bound: a consumer further behind the head than
  // this many seqs more than when it started catching up gets ConsumerTooSlow.
  catchUpReadBytes?: number
  consumerMaxLagSeqs?: number
}

export const defaultLimits: TransportLimits = {
  maxHeaderBytes: 16 * 1024,
  maxBodyBytes: 1024 * 1024,
  maxConsumerMessageBytes: 64 * 1024,
  consumerSendQueueBytes: 16 * 1024 * 1024,
  upstreamMaxMessageBytes: 5_000_000,
}

export interface TransportOptions {
  limits?: Partial<TransportLimits>
  // PEM text of extra CAs for wss:// upstreams (--ca-file), trusted besides Node's roots.
  extraCaPem?: string
}

export interface ConsumerInfo {
  id: number
  remoteAddress: string
  // Raw query of the upgrade request (cursor=...).
  query: string
  // How its ?cursor= started it (native/relay/replay_cursor.h): live at the head, replay after
  // the cursor, outdated (#info OutdatedCursor, then the whole window), future (FutureCursor
  // error frame, then close). A bad cursor never opens: HTTP 400 before the upgrade.
  start?: ConsumerStart
}

export type ConsumerStart = 'live' | 'replay' | 'outdated' | 'future'

// Where consumer replay reads from: the relay pipeline's native object, or an open EventLog's
// `nativeHandle` (lib/log/event-log.ts; tests and tools).
export type ReplayLogSource = object

export interface ConsumerCloseInfo {
  id: number
  code: number
  // Why the relay or the peer ended it: "peer_closed", "too_slow", "message_too_big", ...
  reason: string
}

export interface ListenOptions {
  host: string
  port: number
  handler: RequestHandler
  onConsumerOpen?: (info: ConsumerInfo) => void
  onConsumerClose?: (info: ConsumerCloseInfo) => void
}

export interface TransportErrorInfo {
  // Stable snake_case code, e.g. "cert_untrusted", "cert_hostname_mismatch", "connect_refused",
  // "handshake_timeout", "bad_handshake", "message_too_big", "protocol_error".
  code: string
  // Human-readable detail (OpenSSL's verify error text for certificate failures).
  message: string
}

export interface UpstreamOptions {
  // ws:// or wss:// URL with path and query (the cursor).
  url: string
  // Address to connect to: DNS is resolved in TypeScript and handed down. The URL's host
  // is still used for the Host header, SNI and certificate verification.
  address: string
  headers?: Record<string, string>
  maxMessageBytes?: number
  pingIntervalMs?: number
  handshakeTimeoutMs?: number
  // Relay mode (lib/relay/pipeline.ts): messages go to the relay pipeline as `hostId`'s instead
  // of handlers.onMessages. The io_uring transport routes them natively once the pipeline is
  // attached to it (they never reach JS); otherwise, and on uWS, they arrive through `ingest`
  // with the upstream's id (its seq order is checked per connection).
  route?: UpstreamRoute
}

export interface UpstreamRoute {
  hostId: number
  ingest: (upstreamId: number, frames: Buffer[]) => void
}

export interface UpstreamOpenInfo {
  status: number
  headers: Record<string, string>
}

export interface UpstreamCloseInfo {
  code: number
  reason: string
  error?: TransportErrorInfo
}

export interface UpstreamHandlers {
  onOpen?: (info: UpstreamOpenInfo) => void
  // Whole binary messages, in arrival order, delivered in batches (not called with `route`).
  onMessages: (messages: Buffer[]) => void
  // Called exactly once. The caller decides about reconnects.
  onClose: (info: UpstreamCloseInfo) => void
}

export interface Upstream {
  readonly id: number
  close(code?: number, reason?: string): void
  // Stop/resume reading (the relay pipeline's flow control on uWS; the io_uring transport
  // pauses relay-mode upstreams natively).
  pause?(): void
  resume?(): void
}

// Counters and gauges for lib/metrics.ts; names are the metric suffixes.
export interface TransportStats {
  submissions: number
  completions: number
  bytesIn: number
  bytesOut: number
  connectionsOpen: number
  consumers: number
  queuedSendBytes: number
  // Consumer replay, both transports: consumersLive, consumersCatchingUp, catchUpChunkBytes
  // (gauges), catchUpReads, catchUpBytesRead, catchUpFramesSent, catchUpFallbacks (live →
  // disk), catchUpHandoffs (disk → live), tooSlowQueue / tooSlowLag / tooSlowGap (evictions by
  // cause), replayReadErrors, cursorLive / cursorReplay / cursorOutdated / cursorFuture /
  // cursorBad (how consumers' ?cursor= was answered).
  [name: string]: number
}

export interface Transport {
  readonly kind: TransportKind
  listen(opts: ListenOptions): Promise<{ port: number }>
  // Sends each frame (a whole WebSocket message payload) to every consumer, in order. `seqs`:
  // their relay seqs (strictly increasing, already in the event log), required once
  // setReplayLog was called.
  broadcast(frames: Buffer[], seqs?: number[]): void
  // From now on ?cursor= is decided against this log, and consumers behind the in-memory window
  // (a cursor, or a slow consumer) are fed from it before rejoining live. Once.
  setReplayLog(source: ReplayLogSource): void
  connectUpstream(opts: UpstreamOptions, handlers: UpstreamHandlers): Upstream
  stats(): TransportStats
  close(): Promise<void>
}
