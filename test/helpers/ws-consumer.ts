// A firehose consumer over a raw TCP socket: the upgrade by hand, then test/helpers'
// minimal frame parser. Cheap enough that a thousand of them are not the bottleneck, and
// able to misbehave on purpose (never read, send oversized messages).
import { connect, type Socket } from 'node:net'
import { closePayload, encodeFrame, FrameReader, MessageAssembler, Opcode } from './ws-frames.js'

export interface ConsumerOptions {
  port: number
  host?: string
  path?: string
  onMessage?: (payload: Buffer, opcode: number) => void
}

export interface CloseInfo {
  // From the server's close frame; 1006 when the socket ended without one.
  code: number
  reason: string
}

export class RawConsumer {
  readonly closed: Promise<CloseInfo>
  // Head of the 101 response, lower-case header names.
  headers: Record<string, string> = {}
  private closeInfo: CloseInfo = { code: 1006, reason: '' }

  private constructor(
    readonly socket: Socket,
    private readonly opts: ConsumerOptions,
  ) {
    this.closed = new Promise((resolve) => socket.once('close', () => resolve(this.closeInfo)))
  }

  static connect(opts: ConsumerOptions): Promise<RawConsumer> {
    const socket = connect(opts.port, opts.host ?? '127.0.0.1')
    socket.setNoDelay(true)
    const c = new RawConsumer(socket, opts)
    return c.upgrade()
  }

  send(opcode: number, payload: Buffer): void {
    this.socket.write(encodeFrame(opcode, payload, { mask: true }))
  }

  close(code = 1000): void {
    this.send(Opcode.close, closePayload(code))
    this.socket.end()
  }

  private upgrade(): Promise<RawConsumer> {
    const { socket } = this
    const path = this.opts.path ?? '/xrpc/com.atproto.sync.subscribeRepos'
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    )
    return new Promise((resolve, reject) => {
      let head = Buffer.alloc(0)
      const onError = (err: Error): void => reject(err)
      const onClose = (): void => reject(new Error(`closed during upgrade: ${head.toString('latin1')}`))
      const onData = (chunk: Buffer): void => {
        head = Buffer.concat([head, chunk])
        const end = head.indexOf('\r\n\r\n')
        if (end < 0) return
        socket.off('data', onData).off('error', onError).off('close', onClose)
        const lines = head.subarray(0, end).toString('latin1').split('\r\n')
        if (!/^HTTP\/1\.1 101 /.test(lines[0])) return reject(new Error(`upgrade refused: ${lines[0]}`))
        for (const line of lines.slice(1)) {
          const i = line.indexOf(':')
          this.headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim()
        }
        this.listen(head.subarray(end + 4))
        resolve(this)
      }
      socket.on('data', onData).on('error', onError).on('close', onClose)
    })
  }

  private listen(rest: Buffer): void {
    const assembler = new MessageAssembler(
      (opcode, payload) => this.opts.onMessage?.(payload, opcode),
      (f) => {
        if (f.opcode === Opcode.ping) this.send(Opcode.pong, f.payload)
        if (f.opcode === Opcode.close) {
          this.closeInfo = f.payload.length >= 2 ? { code: f.payload.readUInt16BE(0), reason: f.payload.subarray(2).toString() } : { code: 1005, reason: '' }
          if (!this.socket.destroyed) this.close(1000)
        }
      },
    )
    const reader = new FrameReader(assembler.frame)
    this.socket.on('data', (chunk: Buffer) => reader.push(chunk))
    this.socket.on('error', () => {})
    if (rest.length > 0) reader.push(rest)
  }
}
