// A test upstream that speaks WebSocket by hand (plain or TLS): it answers the upgrade and
// then lets the test write any bytes it likes (fragments, interleaved pings, oversized
// messages) and see the frames the client sends back (pongs, close).
import { createHash } from 'node:crypto'
import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { createServer as createTlsServer } from 'node:tls'
import { FrameReader, type Frame } from './ws-frames.js'

export interface RawPeer {
  socket: Socket
  request: string
  // Frames received from the client so far, unmasked.
  frames: Frame[]
  closed: Promise<void>
}

export class RawWsServer {
  readonly peers: RawPeer[] = []
  private waiters: ((p: RawPeer) => void)[] = []
  private untaken: RawPeer[] = []

  private constructor(private readonly server: Server) {}

  static async start(tls?: { certPem: string; keyPem: string }, extraHeaders = ''): Promise<RawWsServer> {
    const server: Server = tls === undefined ? createNetServer() : createTlsServer({ cert: tls.certPem, key: tls.keyPem })
    const s = new RawWsServer(server)
    server.on(tls === undefined ? 'connection' : 'secureConnection', (socket: Socket) => s.accept(socket, extraHeaders))
    server.on('tlsClientError', () => {})
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return s
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port
  }

  // The next peer that completes the upgrade (or one that already has and was not taken).
  nextPeer(): Promise<RawPeer> {
    const ready = this.untaken.shift()
    return ready !== undefined ? Promise.resolve(ready) : new Promise((resolve) => this.waiters.push(resolve))
  }

  async close(): Promise<void> {
    for (const p of this.peers) p.socket.destroy()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private accept(socket: Socket, extraHeaders: string): void {
    socket.on('error', () => {})
    let head = Buffer.alloc(0)
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk])
      const end = head.indexOf('\r\n\r\n')
      if (end < 0) return
      socket.off('data', onData)
      const request = head.subarray(0, end).toString('latin1')
      const key = /^sec-websocket-key:\s*(.+)$/im.exec(request)?.[1].trim() ?? ''
      const accept = createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64')
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n${extraHeaders}\r\n`)
      const peer: RawPeer = { socket, request, frames: [], closed: new Promise((r) => socket.once('close', () => r())) }
      const reader = new FrameReader((f) => peer.frames.push(f))
      socket.on('data', (c: Buffer) => reader.push(c))
      if (head.length > end + 4) reader.push(head.subarray(end + 4))
      this.peers.push(peer)
      const waiter = this.waiters.shift()
      if (waiter !== undefined) waiter(peer)
      else this.untaken.push(peer)
    }
    socket.on('data', onData)
  }
}
