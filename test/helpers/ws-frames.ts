// A minimal WebSocket frame codec for tests (RFC 6455 §5): enough to be a fast consumer of
// the relay's firehose over a raw socket, and a raw upstream that writes fragmented frames.
import { randomBytes } from 'node:crypto'

export const Opcode = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const

// One frame. `mask` for client → server frames; `fin` false for a fragment.
export function encodeFrame(opcode: number, payload: Buffer, opts: { mask?: boolean; fin?: boolean } = {}): Buffer {
  const fin = opts.fin ?? true
  const n = payload.length
  const lenBytes = n < 126 ? 0 : n < 65536 ? 2 : 8
  const maskBytes = opts.mask ? 4 : 0
  const out = Buffer.allocUnsafe(2 + lenBytes + maskBytes + n)
  out[0] = (fin ? 0x80 : 0) | opcode
  out[1] = (opts.mask ? 0x80 : 0) | (lenBytes === 0 ? n : lenBytes === 2 ? 126 : 127)
  if (lenBytes === 2) out.writeUInt16BE(n, 2)
  if (lenBytes === 8) out.writeBigUInt64BE(BigInt(n), 2)
  const at = 2 + lenBytes + maskBytes
  payload.copy(out, at)
  if (opts.mask) {
    const key = randomBytes(4)
    key.copy(out, 2 + lenBytes)
    for (let i = 0; i < n; i++) out[at + i] ^= key[i & 3]
  }
  return out
}

export function closePayload(code: number, reason = ''): Buffer {
  const b = Buffer.alloc(2 + Buffer.byteLength(reason))
  b.writeUInt16BE(code, 0)
  b.write(reason, 2)
  return b
}

export interface Frame {
  fin: boolean
  opcode: number
  payload: Buffer
}

// Incremental parser: push() socket chunks, get whole frames (unmasked) in order. Bytes of
// a large frame are gathered without re-copying on every chunk.
export class FrameReader {
  private chunks: Buffer[] = []
  private length = 0
  private need = 2

  constructor(private readonly onFrame: (frame: Frame) => void) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk)
    this.length += chunk.length
    if (this.length < this.need) return
    let buf = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.length)
    let off = 0
    for (;;) {
      const frameLength = headerAndLength(buf, off)
      if (typeof frameLength === 'number' || buf.length - off < frameLength.total) {
        this.need = typeof frameLength === 'number' ? frameLength : frameLength.total
        break
      }
      const { header, total, masked } = frameLength
      let payload = buf.subarray(off + header, off + total)
      if (masked) {
        const key = buf.subarray(off + header - 4, off + header)
        payload = Buffer.from(payload)
        for (let i = 0; i < payload.length; i++) payload[i] ^= key[i & 3]
      }
      this.onFrame({ fin: (buf[off] & 0x80) !== 0, opcode: buf[off] & 0x0f, payload })
      off += total
      this.need = 2
    }
    buf = buf.subarray(off)
    this.chunks = buf.length > 0 ? [buf] : []
    this.length = buf.length
  }
}

// The frame's sizes, or how many bytes are needed to know them.
function headerAndLength(buf: Buffer, off: number): { header: number; total: number; masked: boolean } | number {
  if (buf.length - off < 2) return 2
  const masked = (buf[off + 1] & 0x80) !== 0
  let n = buf[off + 1] & 0x7f
  let header = 2
  if (n === 126) {
    if (buf.length - off < 4) return 4
    n = buf.readUInt16BE(off + 2)
    header = 4
  } else if (n === 127) {
    if (buf.length - off < 10) return 10
    n = Number(buf.readBigUInt64BE(off + 2))
    header = 10
  }
  if (masked) header += 4
  return { header, total: header + n, masked }
}

// Joins fragments into messages; answers nothing itself (the caller decides about pings).
export class MessageAssembler {
  private parts: Buffer[] = []
  private opcode = 0

  constructor(
    private readonly onMessage: (opcode: number, payload: Buffer) => void,
    private readonly onControl: (frame: Frame) => void,
  ) {}

  frame = (f: Frame): void => {
    if (f.opcode >= 0x8) return this.onControl(f)
    if (f.opcode !== Opcode.continuation) this.opcode = f.opcode
    if (f.fin && this.parts.length === 0) return this.onMessage(this.opcode, f.payload)
    this.parts.push(f.payload)
    if (!f.fin) return
    const whole = Buffer.concat(this.parts)
    this.parts = []
    this.onMessage(this.opcode, whole)
  }
}
