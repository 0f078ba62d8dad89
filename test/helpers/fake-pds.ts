// A fake PDS for the relay's black-box tests, the way indigo's harness has one
// (cmd/relay/testing): a real WebSocket server on `localhost:PORT` serving
// com.atproto.sync.subscribeRepos from frames the test publishes, each with its upstream seq.
// A subscriber with `?cursor=N` first gets every published frame with seq > N (in publish
// order), then live ones; without a cursor it starts live. Frames published while nobody is
// subscribed are held for the next subscriber (holdUntilConnected), so a test can publish
// before the relay has dialled. It answers describeServer (requestCrawl checks it) and records
// every request and subscription. Like indigo's fake producer it does not serve getRepoStatus:
// the test publishes a whole scenario at once, so any status it could report would be the one
// after the last frame, not the one at the frame the relay is deciding on.
//
// FakeAccount builds valid signed Sync 1.1 commits with @atproto/repo for an identity the test
// controls (did:plc served by fake-plc.ts, secp256k1 key).
import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { Secp256k1Keypair } from '@atproto/crypto'
import { MemoryBlockstore, Repo, WriteOpAction, blocksToCarFile } from '@atproto/repo'
import type { RecordWriteOp } from '@atproto/repo'
import { WebSocket, WebSocketServer } from 'ws'
import { decodeFrame, encodeFrame } from './atproto-json.js'
import type { PlcIdentity } from './fake-plc.js'

export interface PdsConnection {
  id: number
  // The ?cursor the subscriber sent (undefined: live).
  cursor: number | undefined
  openedAt: number
  closedAt: number | undefined
  // Frames written to it.
  sent: number
  socket: WebSocket
}

export interface PublishedFrame {
  seq: number
  bytes: Buffer
}

export interface FakePdsOptions {
  // Hold frames published while no subscriber is connected for the next one (default true).
  holdUntilConnected?: boolean
  // First seq publishBody assigns (default 1).
  firstSeq?: number
}

export class FakePds {
  readonly connections: PdsConnection[] = []
  // "METHOD /path?query" of every HTTP request, upgrades included.
  readonly requests: string[] = []
  readonly history: PublishedFrame[] = []
  private pending: Buffer[] = []
  private nextSeqValue: number
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false })
  private waiters: ((c: PdsConnection) => void)[] = []
  private readonly hold: boolean

  private constructor(
    private readonly servers: Server[],
    opts: FakePdsOptions,
  ) {
    this.hold = opts.holdUntilConnected ?? true
    this.nextSeqValue = opts.firstSeq ?? 1
  }

  // Listens on 127.0.0.1 and, when the machine has it, ::1 on the same port: the relay
  // resolves `localhost` itself and may get either.
  static async start(opts: FakePdsOptions = {}): Promise<FakePds> {
    const v4 = createServer()
    const pds = new FakePds([v4], opts)
    const attach = (s: Server): void => {
      s.on('request', (req, res) => pds.onRequest(req, res))
      s.on('upgrade', (req, socket, head) => pds.onUpgrade(req, socket, head))
    }
    attach(v4)
    await new Promise<void>((resolve) => v4.listen(0, '127.0.0.1', resolve))
    const v6 = createServer()
    const ok = await new Promise<boolean>((resolve) => {
      v6.once('error', () => resolve(false))
      v6.listen(pds.port, '::1', () => resolve(true))
    })
    if (ok) {
      attach(v6)
      pds.servers.push(v6)
    }
    return pds
  }

  get port(): number {
    return (this.servers[0].address() as AddressInfo).port
  }

  // What requestCrawl gets.
  get hostname(): string {
    return `localhost:${this.port}`
  }

  // What DID documents name as #atproto_pds.
  get url(): string {
    return `http://localhost:${this.port}`
  }

  get headSeq(): number {
    return this.history.length === 0 ? 0 : this.history[this.history.length - 1].seq
  }

  openConnections(): PdsConnection[] {
    return this.connections.filter((c) => c.closedAt === undefined)
  }

  // Frames as they are (their seq is read from the body): scenario frames keep their seqs.
  publish(frames: Buffer | Buffer[]): void {
    for (const bytes of Array.isArray(frames) ? frames : [frames]) {
      const { body } = decodeFrame(bytes)
      const seq = typeof body.seq === 'number' ? body.seq : -1
      this.history.push({ seq, bytes })
      const live = this.openConnections()
      if (live.length === 0 && this.hold) this.pending.push(bytes)
      for (const c of live) this.send(c, bytes)
    }
  }

  // A body without seq: assigns the next seq, publishes, returns the seq.
  publishBody(type: string, body: Record<string, unknown>): number {
    const seq = this.nextSeqValue++
    this.publish(encodeFrame({ op: 1, t: `#${type}` }, { ...body, seq }))
    return seq
  }

  async publishCommit(account: FakeAccount, action?: 'create' | 'update' | 'delete'): Promise<{ seq: number; did: string; rev: string }> {
    const body = await account.nextCommit(action)
    return { seq: this.publishBody('commit', body), did: account.did, rev: body.rev as string }
  }

  // Resolves with an open subscription (one already open, or the next to open).
  waitForSubscriber(timeoutMs = 15_000): Promise<PdsConnection> {
    const open = this.openConnections()
    if (open.length > 0) return Promise.resolve(open[open.length - 1])
    return this.nextSubscriber(timeoutMs)
  }

  // Resolves with the next subscription to open from now on.
  nextSubscriber(timeoutMs = 15_000): Promise<PdsConnection> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter)
        reject(new Error(`no subscribeRepos connection within ${timeoutMs} ms (requests so far: ${this.requests.slice(-5).join(', ') || 'none'})`))
      }, timeoutMs)
      const waiter = (c: PdsConnection): void => {
        clearTimeout(timer)
        resolve(c)
      }
      this.waiters.push(waiter)
    })
  }

  disconnectAll(code = 1001): void {
    for (const c of this.openConnections()) c.socket.close(code)
  }

  async close(): Promise<void> {
    for (const c of this.openConnections()) c.socket.terminate()
    await Promise.all(
      this.servers.map((s) => {
        s.closeAllConnections()
        return new Promise<void>((resolve) => s.close(() => resolve()))
      }),
    )
  }

  private send(c: PdsConnection, bytes: Buffer): void {
    if (c.socket.readyState !== WebSocket.OPEN) return
    c.socket.send(bytes, { binary: true })
    c.sent++
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    this.requests.push(`${req.method} ${req.url}`)
    const url = new URL(req.url ?? '/', 'http://localhost')
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(body))
    }
    switch (url.pathname) {
      case '/xrpc/com.atproto.server.describeServer':
        return json(200, { did: 'did:web:localhost', availableUserDomains: ['.test'], inviteCodeRequired: false, links: {} })
      case '/xrpc/_health':
        return json(200, { version: 'fake-pds' })
      case '/xrpc/com.atproto.sync.subscribeRepos':
        return json(426, { error: 'UpgradeRequired' })
      default:
        return json(501, { error: 'MethodNotImplemented', message: `fake PDS: ${url.pathname}` })
    }
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.requests.push(`${req.method} ${req.url} (upgrade)`)
    const url = new URL(req.url ?? '/', 'http://localhost')
    if (url.pathname !== '/xrpc/com.atproto.sync.subscribeRepos') {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
      return
    }
    const raw = url.searchParams.get('cursor')
    const cursor = raw === null ? undefined : Number(raw)
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const c: PdsConnection = { id: this.connections.length + 1, cursor, openedAt: Date.now(), closedAt: undefined, sent: 0, socket: ws }
      this.connections.push(c)
      ws.on('close', () => (c.closedAt = Date.now()))
      ws.on('error', () => {})
      if (cursor !== undefined && Number.isFinite(cursor)) {
        for (const f of this.history) if (f.seq > cursor) this.send(c, f.bytes)
      } else {
        for (const bytes of this.pending) this.send(c, bytes)
      }
      this.pending = []
      const waiters = this.waiters
      this.waiters = []
      for (const w of waiters) w(c)
    })
  }
}

// A repo the test controls: a secp256k1 key, a did:plc for fake-plc.ts, and @atproto/repo
// building each commit exactly as a PDS emits it (blocks = new ∪ relevant blocks, prevData,
// op prev CIDs), so the relay can check the signature and invert the MST.
export class FakeAccount {
  private readonly rkeys: string[] = []
  private counter = 0

  private constructor(
    readonly did: string,
    readonly handle: string,
    readonly keypair: Secp256k1Keypair,
    private repo: Repo,
  ) {}

  static async create(opts: { did?: string; handle?: string } = {}): Promise<FakeAccount> {
    const keypair = await Secp256k1Keypair.create()
    const did = opts.did ?? randomPlcDid()
    const repo = await Repo.create(new MemoryBlockstore(), did, keypair)
    return new FakeAccount(did, opts.handle ?? `u${did.slice(-8)}.test`, keypair, repo)
  }

  // The Multikey the DID document names.
  get publicKeyMultibase(): string {
    return this.keypair.did().slice('did:key:'.length)
  }

  identity(pdsEndpoint: string): PlcIdentity {
    return { did: this.did, handle: this.handle, key: { type: 'Multikey', publicKeyMultibase: this.publicKeyMultibase }, pdsEndpoint }
  }

  get rev(): string {
    return this.repo.commit.rev
  }

  // The next #commit body (no seq). Default action: create, with an update or delete of an
  // existing record now and then so all three op kinds flow.
  async nextCommit(action?: 'create' | 'update' | 'delete'): Promise<Record<string, unknown>> {
    const n = this.counter++
    const act = action ?? (this.rkeys.length > 2 && n % 5 === 3 ? 'update' : this.rkeys.length > 2 && n % 7 === 6 ? 'delete' : 'create')
    const collection = 'app.bsky.feed.post'
    let write: RecordWriteOp
    if (act === 'create' || this.rkeys.length === 0) {
      const rkey = `${Date.now().toString(36)}${n.toString(36).padStart(4, '0')}`
      this.rkeys.push(rkey)
      write = { action: WriteOpAction.Create, collection, rkey, record: post(`post ${n} by ${this.handle}`) }
    } else if (act === 'update') {
      const rkey = this.rkeys[n % this.rkeys.length]
      write = { action: WriteOpAction.Update, collection, rkey, record: post(`edited ${n}`) }
    } else {
      const rkey = this.rkeys.splice(n % this.rkeys.length, 1)[0]
      write = { action: WriteOpAction.Delete, collection, rkey }
    }
    const path = `${collection}/${write.rkey}`
    const prevData = await this.repo.data.getPointer()
    const prevCid = write.action === WriteOpAction.Create ? null : await this.repo.data.get(path)
    const data = await this.repo.formatCommit(write, this.keypair)
    this.repo = await this.repo.applyCommit(data)
    const cid = write.action === WriteOpAction.Delete ? null : await this.repo.data.get(path)
    const blocks = data.newBlocks
    blocks.addMap(data.relevantBlocks)
    const op: Record<string, unknown> = { action: write.action, path, cid }
    if (prevCid !== null) op.prev = prevCid
    return {
      repo: this.did,
      commit: data.cid,
      rev: data.rev,
      since: data.since,
      blocks: await blocksToCarFile(data.cid, blocks),
      ops: [op],
      prevData,
      rebase: false,
      tooBig: false,
      blobs: [],
      time: new Date().toISOString(),
    }
  }
}

function post(text: string): { $type: string; text: string; createdAt: string } {
  return { $type: 'app.bsky.feed.post', text, createdAt: new Date().toISOString() }
}

// did:plc: + 24 base32 characters; the relay fetches the document, it never checks the genesis
// hash (nor could it for a DID that exists only in the fake PLC).
export function randomPlcDid(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567'
  return 'did:plc:' + Array.from(randomBytes(24), (b) => alphabet[b & 31]).join('')
}
