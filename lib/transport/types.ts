// The one interface both transports implement: the io_uring driver (lib/transport/uring.ts,
// native/io) and the uWebSockets.js + ws fallback (lib/transport/uws.ts). Policy that must
// not differ between them (who gets which frame, send-queue bounds, slow consumers) lives in
// the native fan-out core (native/fanout), which both drivers use; one test suite
// (test/lib/transport/) runs against both.
//
// Additions since the first version (additive only): `serverHeader`, the Server header value
// both transports write on every response, the 101 included.

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
}

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
  // Whole binary messages, in arrival order, delivered in batches.
  onMessages: (messages: Buffer[]) => void
  // Called exactly once. The caller decides about reconnects.
  onClose: (info: UpstreamCloseInfo) => void
}

export interface Upstream {
  readonly id: number
  close(code?: number, reason?: string): void
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
  [name: string]: number
}

export interface Transport {
  readonly kind: TransportKind
  listen(opts: ListenOptions): Promise<{ port: number }>
  // Sends each frame (a whole WebSocket message payload) to every consumer, in order.
  broadcast(frames: Buffer[]): void
  connectUpstream(opts: UpstreamOptions, handlers: UpstreamHandlers): Upstream
  stats(): TransportStats
  close(): Promise<void>
}
