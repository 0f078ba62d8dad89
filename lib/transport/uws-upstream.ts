// The uWS transport's client side: upstream subscriptions (ws:// and wss://) on the `ws`
// package, since uWebSockets.js has no client. Same contract as the io_uring driver's native
// client: the caller's address (DNS is resolved in TypeScript), the URL's host for Host, SNI
// and certificate checks, extra CAs besides Node's roots, a message size limit (atproto: 5 MB)
// closing with 1009, keepalive pings, and whole binary messages delivered in batches.
import { isIP } from 'node:net'
import { rootCertificates } from 'node:tls'
import WebSocket from 'ws'
import type { TransportErrorInfo, Upstream, UpstreamCloseInfo, UpstreamHandlers, UpstreamOptions } from './types.js'

// What the transport keeps of an upstream: it can also cut it at shutdown, when a peer that
// does not answer our close frame would otherwise hold the process for ws's 30 s timeout.
export interface WsUpstream extends Upstream {
  terminate(): void
}

export interface UpstreamContext {
  id: number
  extraCaPem: string | undefined
  maxMessageBytes: number
  // Called once the upstream has closed and reported, so the transport forgets it.
  onEnd: (upstream: WsUpstream) => void
  onBytesIn: (bytes: number) => void
}

const defaultPingIntervalMs = 30_000
const defaultHandshakeTimeoutMs = 10_000

// Node's TLS error codes → the transport's stable codes (types.ts, TransportErrorInfo).
const untrustedCodes = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_UNTRUSTED', 'CERT_SIGNATURE_FAILURE',
])

export function errorInfo(err: Error & { code?: string }): TransportErrorInfo {
  const code = err.code ?? ''
  if (untrustedCodes.has(code)) return { code: 'cert_untrusted', message: `certificate not trusted (${code}): ${err.message}` }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return { code: 'cert_hostname_mismatch', message: err.message }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') return { code: 'cert_expired', message: err.message }
  if (code === 'ECONNREFUSED') return { code: 'connect_refused', message: err.message }
  if (code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') return { code: 'message_too_big', message: err.message }
  if (code.startsWith('WS_ERR_')) return { code: 'protocol_error', message: `${code}: ${err.message}` }
  if (err.message.includes('handshake has timed out')) return { code: 'handshake_timeout', message: err.message }
  if (err.message.startsWith('Unexpected server response')) return { code: 'bad_handshake', message: err.message }
  return { code: code === '' ? 'io_error' : code.toLowerCase(), message: err.message }
}

export function connectWsUpstream(opts: UpstreamOptions, handlers: UpstreamHandlers, ctx: UpstreamContext): WsUpstream {
  const family = isIP(opts.address)
  const ws = new WebSocket(opts.url, {
    headers: opts.headers,
    maxPayload: opts.maxMessageBytes ?? ctx.maxMessageBytes,
    handshakeTimeout: opts.handshakeTimeoutMs ?? defaultHandshakeTimeoutMs,
    perMessageDeflate: false,
    followRedirects: false,
    // Connect to the address resolved by the caller; the URL's host stays the TLS name.
    lookup: (_host: string, options: { all?: boolean }, cb: (...args: unknown[]) => void) => {
      if (options.all) cb(null, [{ address: opts.address, family }])
      else cb(null, opts.address, family)
    },
    ...(ctx.extraCaPem === undefined ? {} : { ca: [...rootCertificates, ctx.extraCaPem] }),
  } as WebSocket.ClientOptions)
  ws.binaryType = 'nodebuffer'

  let error: TransportErrorInfo | undefined
  let pending: Buffer[] = []
  let flushScheduled = false
  let alive = true
  let ended = false
  let closedByCaller = false
  let paused = false
  let pinger: NodeJS.Timeout | undefined
  const route = opts.route

  // One onMessages call per turn of the event loop: the messages of one socket read
  // arrive together, as they do from the native transport.
  const flush = (): void => {
    flushScheduled = false
    if (pending.length === 0) return
    const batch = pending
    pending = []
    if (route !== undefined) route.ingest(ctx.id, batch)
    else handlers.onMessages(batch)
  }
  const fail = (info: TransportErrorInfo, code: number): void => {
    error ??= info
    ws.close(code)
  }

  const upstream: WsUpstream = {
    id: ctx.id,
    close: (code = 1000, reason = '') => {
      closedByCaller = true
      ws.close(code, reason)
    },
    terminate: () => {
      closedByCaller = true
      ws.terminate()
    },
    // The relay pipeline's flow control: TCP backpressure reaches the upstream.
    pause: () => {
      paused = true
      ws.pause()
    },
    resume: () => {
      paused = false
      alive = true
      ws.resume()
    },
  }

  ws.on('upgrade', (res) => {
    const headers: Record<string, string> = {}
    for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v
    ws.once('open', () => handlers.onOpen?.({ status: res.statusCode ?? 101, headers }))
  })
  ws.on('open', () => {
    pinger = setInterval(() => {
      // Any traffic proves the peer alive; a silent peer gets one interval to answer a ping.
      // While we are not reading, its answer waits in the socket: that is not its silence.
      if (!alive && !paused) {
        error ??= { code: 'ping_timeout', message: `no traffic for ${opts.pingIntervalMs ?? defaultPingIntervalMs} ms after a ping` }
        ws.terminate()
        return
      }
      alive = false
      ws.ping()
    }, opts.pingIntervalMs ?? defaultPingIntervalMs)
  })
  ws.on('pong', () => (alive = true))
  ws.on('ping', () => (alive = true))
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    alive = true
    if (!isBinary) return fail({ code: 'protocol_error', message: 'text message on a binary event stream' }, 1003)
    ctx.onBytesIn(data.length)
    pending.push(data)
    if (!flushScheduled) {
      flushScheduled = true
      setImmediate(flush)
    }
  })
  ws.on('error', (err: Error & { code?: string }) => {
    // Closing before the handshake finished is the caller's choice, not a failure.
    if (!closedByCaller) error ??= errorInfo(err)
  })
  ws.on('close', (code: number, reason: Buffer) => {
    if (ended) return
    ended = true
    clearInterval(pinger)
    flush()
    // ws reports 1006 when it closed for its own reason and the peer did not answer; the
    // code it sent (1009 for an oversized message) is the one that describes the close.
    const info: UpstreamCloseInfo = { code: error?.code === 'message_too_big' ? 1009 : code, reason: reason.toString() }
    if (error !== undefined) info.error = error
    ctx.onEnd(upstream)
    handlers.onClose(info)
  })
  return upstream
}
