// A raw firehose consumer for the relay's black-box tests: connects to subscribeRepos (with
// or without ?cursor) over ws-consumer.ts's raw socket client, keeps every frame's exact
// bytes, decodes header and body, and exposes what the tests compare: seqs, #info frames,
// error frames and the close code.
import { decodeFrame, type FrameHeader } from './atproto-json.js'
import { RawConsumer, type CloseInfo } from './ws-consumer.js'

export interface ReceivedFrame {
  bytes: Buffer
  header: FrameHeader
  body: Record<string, unknown>
  // The body's seq (events only; #info and error frames have none).
  seq: number | undefined
  // Date.now() when it arrived.
  receivedAt: number
}

export interface ConsumerConnectOptions {
  port: number
  host?: string
  cursor?: number
}

export class FirehoseConsumer {
  readonly frames: ReceivedFrame[] = []
  // Events with a seq (not #info, not errors), #info frames, error frames (op -1).
  readonly events: ReceivedFrame[] = []
  readonly infos: ReceivedFrame[] = []
  readonly errors: ReceivedFrame[] = []
  // Set once the connection has ended.
  closeInfo: CloseInfo | undefined
  // Messages that were not a decodable frame (text, or bad CBOR): a test fails on them.
  readonly undecodable: string[] = []
  private listeners: (() => void)[] = []
  private raw: RawConsumer | undefined

  private constructor(readonly cursor: number | undefined) {}

  static async connect(opts: ConsumerConnectOptions): Promise<FirehoseConsumer> {
    const c = new FirehoseConsumer(opts.cursor)
    const path = '/xrpc/com.atproto.sync.subscribeRepos' + (opts.cursor === undefined ? '' : `?cursor=${opts.cursor}`)
    c.raw = await RawConsumer.connect({ port: opts.port, host: opts.host, path, onMessage: (payload, opcode) => c.onMessage(payload, opcode) })
    void c.raw.closed.then((info) => {
      c.closeInfo = info
      c.notify()
    })
    return c
  }

  get seqs(): number[] {
    return this.events.map((f) => f.seq as number)
  }

  get lastSeq(): number | undefined {
    const e = this.events
    return e.length === 0 ? undefined : e[e.length - 1].seq
  }

  get closed(): boolean {
    return this.closeInfo !== undefined
  }

  // Resolves when `check` holds (checked on every frame and at close); rejects after
  // timeoutMs with `what` and a summary of what did arrive.
  waitFor(check: (c: FirehoseConsumer) => boolean, what: string, timeoutMs = 15_000): Promise<void> {
    if (check(this)) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const listener = (): void => {
        if (!check(this)) return
        done()
        resolve()
      }
      const timer = setTimeout(() => {
        done()
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; ${this.summary()}`))
      }, timeoutMs)
      const done = (): void => {
        clearTimeout(timer)
        this.listeners = this.listeners.filter((l) => l !== listener)
      }
      this.listeners.push(listener)
    })
  }

  waitForEvents(count: number, timeoutMs = 15_000): Promise<void> {
    return this.waitFor((c) => c.events.length >= count, `${count} events`, timeoutMs)
  }

  waitForSeq(seq: number, timeoutMs = 15_000): Promise<void> {
    return this.waitFor((c) => (c.lastSeq ?? -1) >= seq, `seq ${seq}`, timeoutMs)
  }

  waitForClose(timeoutMs = 10_000): Promise<CloseInfo> {
    return this.waitFor((c) => c.closed, 'the connection to close', timeoutMs).then(() => this.closeInfo as CloseInfo)
  }

  summary(): string {
    const types = this.frames.map((f) => (f.header.op === -1 ? `error:${String(f.body.error)}` : `${f.header.t}:${f.seq ?? '-'}`))
    const shown = types.length > 12 ? [...types.slice(0, 4), '…', ...types.slice(-6)] : types
    return `cursor ${this.cursor ?? 'none'}: ${this.frames.length} frames [${shown.join(' ')}]${this.closeInfo ? `, closed ${this.closeInfo.code} ${this.closeInfo.reason}` : ''}`
  }

  close(): void {
    if (this.raw !== undefined && !this.closed) this.raw.close(1000)
  }

  // Ends the socket without a close handshake (a consumer that vanishes).
  destroy(): void {
    this.raw?.socket.destroy()
  }

  private onMessage(payload: Buffer, opcode: number): void {
    if (opcode !== 2) {
      this.undecodable.push(`opcode ${opcode}: ${payload.subarray(0, 80).toString('latin1')}`)
    } else {
      try {
        const { header, body } = decodeFrame(payload)
        const seq = header.op === 1 && typeof body.seq === 'number' ? body.seq : undefined
        const f: ReceivedFrame = { bytes: Buffer.from(payload), header, body, seq, receivedAt: Date.now() }
        this.frames.push(f)
        if (header.op === -1) this.errors.push(f)
        else if (header.t === '#info') this.infos.push(f)
        else if (seq !== undefined) this.events.push(f)
      } catch (err) {
        this.undecodable.push(`${(err as Error).message}: ${payload.subarray(0, 40).toString('hex')}`)
      }
    }
    this.notify()
  }

  private notify(): void {
    for (const l of [...this.listeners]) l()
  }
}
