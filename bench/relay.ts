// Relay benchmark: the real `ringlay serve` end to end, io_uring and uWebSockets.js in one run.
//
//   node dist/bench/relay.js [--accounts 1000] [--commits 80000] [--hosts 4] [--rate 2000]
//                            [--seconds 5] [--consumers 100] [--transports uring,uws]
//
// 1. Throughput: a producer process (fake PDS hosts writing pre-framed WebSocket messages) sends
//    pre-signed valid Sync 1.1 commits for many accounts as fast as the relay reads them; one
//    consumer counts what comes out. Figure: validated commits/s, against the goal of at
//    least 0.5× the raw secp256k1 verify rate of the addon on 2 threads (benchRawVerify).
// 2. Latency: the producer paces commits at --rate ev/s and writes its send time (µs) into each
//    commit's `time` field; --consumers consumers (bench/native/relay_latency.cc, one epoll
//    process) read it back: p50/p99 of send → receive, goal p99 ≤ 10 ms.
// Producer and consumers are separate processes doing little per frame (pre-built frames,
// C++ consumers), and their CPU use is printed next to the relay's. The frames are built once
// (node:crypto signatures made low-S, single-node MSTs checked against @atproto/repo) and
// cached under build/bench/. Before measuring, each account's first commit goes through (the
// relay resolves its identity from a fake PLC in this process). One relay per measurement,
// fresh data dir. Last lines: `relay <transport>: <n> commits/s (<x>× raw) | p50 … p99 …`.
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads'
import { MST, MemoryBlockstore } from '@atproto/repo'
import { verifySignature } from '@atproto/crypto'
import { decodeCid } from '@atproto/lex-data'
import { benchRawVerify } from '../lib/codec/keys.js'
import { packageRoot } from '../lib/native.js'
import { probeUring } from '../lib/transport/uring.js'
import { CidLink, decodeDagCbor, encodeDagCbor, encodeFrame } from '../test/helpers/atproto-json.js'
import { FakePlc } from '../test/helpers/fake-plc.js'
import { RelayProcess, type IoMode } from '../test/helpers/relay-process.js'

const self = fileURLToPath(import.meta.url)
// Fixed-length `time` the producer overwrites with its send time (µs precision).
const placeholderTime = '2025-01-01T00:00:00.000000Z'
const secpN = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n

interface BenchAccount {
  did: string
  multibase: string
}

interface GenJob {
  first: number
  count: number
  commits: number
}

// ---------- frame generation (worker threads) ----------

function cidFor(bytes: Uint8Array): CidLink {
  const digest = createHash('sha256').update(bytes).digest()
  return new CidLink(Uint8Array.from([0x01, 0x71, 0x12, 0x20, ...digest]))
}

// TID: 53-bit microsecond timestamp + 10-bit clock id, base32-sortable.
function tid(micros: number, clock: number): string {
  const alphabet = '234567abcdefghijklmnopqrstuvwxyz'
  let v = (BigInt(micros) << 10n) | BigInt(clock & 1023)
  let out = ''
  for (let i = 0; i < 13; i++) {
    out = alphabet[Number(v & 31n)] + out
    v >>= 5n
  }
  return out
}

function base58(bytes: Uint8Array): string {
  const alphabet = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
  let v = BigInt('0x' + Buffer.from(bytes).toString('hex'))
  let out = ''
  while (v > 0n) {
    out = alphabet[Number(v % 58n)] + out
    v /= 58n
  }
  for (const b of bytes) {
    if (b !== 0) break
    out = '1' + out
  }
  return out
}

function varint(n: number): Buffer {
  const out: number[] = []
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80)
    n >>>= 7
  }
  out.push(n)
  return Buffer.from(out)
}

function car(root: CidLink, blocks: [CidLink, Uint8Array][]): Buffer {
  const header = encodeDagCbor({ version: 1, roots: [root] })
  const parts: Uint8Array[] = [varint(header.length), header]
  for (const [cid, data] of blocks) parts.push(varint(cid.bytes.length + data.length), cid.bytes, data)
  return Buffer.concat(parts)
}

// An MST whose keys all sit on layer 0 (their SHA-256 starts with a byte ≥ 0x40) is one node:
// entries sorted, keys prefix-compressed, no subtrees.
function leafNode(keys: string[], values: Map<string, CidLink>): Uint8Array {
  let prev = Buffer.alloc(0)
  const e = keys.map((k) => {
    const kb = Buffer.from(k)
    let p = 0
    while (p < prev.length && p < kb.length && prev[p] === kb[p]) p++
    prev = kb
    return { p, k: new Uint8Array(kb.subarray(p)), v: values.get(k) as CidLink, t: null }
  })
  return encodeDagCbor({ l: null, e })
}

function lowS(sig: Buffer): Buffer {
  const s = BigInt('0x' + sig.subarray(32).toString('hex'))
  if (s <= secpN / 2n) return sig
  return Buffer.concat([sig.subarray(0, 32), Buffer.from((secpN - s).toString(16).padStart(64, '0'), 'hex')])
}

class GenAccount {
  readonly did: string
  readonly multibase: string
  private readonly key: KeyObject
  private readonly keys: string[] = []
  private readonly values = new Map<string, CidLink>()
  private root: CidLink
  private rev: string | null = null
  private clock = 0

  constructor(index: number) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'secp256k1' })
    const jwk = publicKey.export({ format: 'jwk' })
    const x = Buffer.from(jwk.x as string, 'base64url')
    const y = Buffer.from(jwk.y as string, 'base64url')
    this.key = privateKey
    this.multibase = 'z' + base58(Uint8Array.from([0xe7, 0x01, (y[31] & 1) === 1 ? 3 : 2, ...x]))
    let suffix = ''
    for (let v = index, i = 0; i < 19; i++, v = Math.floor(v / 32)) suffix = 'abcdefghijklmnopqrstuvwxyz234567'[v % 32] + suffix
    this.did = 'did:plc:bench' + suffix
    this.root = cidFor(leafNode([], this.values))
  }

  commit(n: number, micros: number): { body: Record<string, unknown>; node: Uint8Array; path: string; cid: CidLink; commitBytes: Uint8Array } {
    let path: string
    for (let c = 0; ; c++) {
      path = `app.bsky.feed.post/${tid(micros, (n * 37 + c) & 1023)}`
      if (createHash('sha256').update(path).digest()[0] >= 0x40 && !this.values.has(path)) break
    }
    const record = encodeDagCbor({ $type: 'app.bsky.feed.post', text: `bench post ${n} by ${this.did}`, createdAt: new Date(micros / 1000).toISOString() })
    const recordCid = cidFor(record)
    const prevData = this.root
    this.keys.push(path)
    this.keys.sort()
    this.values.set(path, recordCid)
    const node = leafNode(this.keys, this.values)
    this.root = cidFor(node)
    const rev = tid(micros, this.clock++)
    const unsigned = { did: this.did, version: 3, data: this.root, rev, prev: null }
    const sig = lowS(sign('sha256', encodeDagCbor(unsigned), { key: this.key, dsaEncoding: 'ieee-p1363' }))
    const commitBytes = encodeDagCbor({ ...unsigned, sig: new Uint8Array(sig) })
    const commitCid = cidFor(commitBytes)
    const body = {
      repo: this.did,
      commit: commitCid,
      rev,
      since: this.rev,
      blocks: car(commitCid, [[commitCid, commitBytes], [this.root, node], [recordCid, record]]),
      ops: [{ action: 'create', path, cid: recordCid }],
      prevData,
      rebase: false,
      tooBig: false,
      blobs: [],
      time: placeholderTime,
    }
    this.rev = rev
    return { body, node, path, cid: recordCid, commitBytes }
  }
}

// Worker: accounts [first, first + count), `commits` commits in round-robin order overall;
// returns frames tagged with their global position.
function generate(job: GenJob, accountsTotal: number): { accounts: BenchAccount[]; frames: { at: number; bytes: Buffer }[] } {
  const accounts = Array.from({ length: job.count }, (_, i) => new GenAccount(job.first + i))
  const frames: { at: number; bytes: Buffer }[] = []
  const start = Date.now() * 1000 - job.commits * 1000
  for (let at = 0; at < job.commits; at++) {
    const a = at % accountsTotal
    if (a < job.first || a >= job.first + job.count) continue
    const { body } = accounts[a - job.first].commit(at, start + at * 1000)
    frames.push({ at, bytes: encodeFrame({ op: 1, t: '#commit' }, { ...body, seq: at + 1 }) })
  }
  return { accounts: accounts.map((a) => ({ did: a.did, multibase: a.multibase })), frames }
}

// The generator checked with the official libraries: each MST root equals @atproto/repo's
// for the same keys, and the commit signature verifies with @atproto/crypto.
async function selfCheck(): Promise<void> {
  const a = new GenAccount(0)
  let mst = await MST.create(new MemoryBlockstore())
  for (let n = 0; n < 6; n++) {
    const c = a.commit(n, Date.now() * 1000 + n * 1000)
    mst = await mst.add(c.path, decodeCid(c.cid.bytes))
    const want = (await mst.getPointer()).toString()
    if (cidFor(c.node).toString() !== want) throw new Error(`generated MST root ${cidFor(c.node).toString()} != @atproto/repo's ${want}`)
    const commit = decodeDagCbor(c.commitBytes) as Record<string, unknown>
    const sig = commit.sig as Uint8Array
    delete commit.sig
    if (!(await verifySignature(`did:key:${a.multibase}`, encodeDagCbor(commit), sig))) throw new Error('generated signature does not verify')
  }
}

async function framesFor(accounts: number, commits: number): Promise<{ accounts: BenchAccount[]; frames: Buffer[] }> {
  const dir = join(packageRoot, 'build', 'bench', `relay-frames-v2-${accounts}-${commits}`)
  if (existsSync(join(dir, 'frames.bin'))) {
    const acc = JSON.parse(readFileSync(join(dir, 'accounts.json'), 'utf8')) as BenchAccount[]
    const bin = readFileSync(join(dir, 'frames.bin'))
    const frames: Buffer[] = []
    for (let at = 0; at < bin.length; ) {
      const n = bin.readUInt32LE(at)
      frames.push(bin.subarray(at + 4, at + 4 + n))
      at += 4 + n
    }
    return { accounts: acc, frames }
  }
  await selfCheck()
  const t0 = Date.now()
  const workers = 2
  const per = Math.ceil(accounts / workers)
  const parts = await Promise.all(
    Array.from({ length: workers }, (_, w) => {
      const job: GenJob = { first: w * per, count: Math.max(0, Math.min(per, accounts - w * per)), commits }
      return new Promise<ReturnType<typeof generate>>((resolve, reject) => {
        const worker = new Worker(self, { workerData: { job, accounts } })
        worker.once('message', resolve)
        worker.once('error', reject)
      })
    }),
  )
  const acc = parts.flatMap((p) => p.accounts)
  const frames: Buffer[] = new Array(commits)
  for (const p of parts) for (const f of p.frames) frames[f.at] = Buffer.from(f.bytes)
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'accounts.json'), JSON.stringify(acc))
  writeFileSync(join(dir, 'frames.bin'), Buffer.concat(frames.flatMap((f) => [Buffer.from(Uint32Array.of(f.length).buffer), f])))
  console.log(`generated ${commits} commits for ${accounts} accounts in ${((Date.now() - t0) / 1000).toFixed(1)} s (cached in ${dir})`)
  return { accounts: acc, frames }
}

if (!isMainThread) {
  const { job, accounts } = workerData as { job: GenJob; accounts: number }
  parentPort!.postMessage(generate(job, accounts))
}

// ---------- producer process: fake PDS hosts writing pre-framed messages ----------

const { values: args } = parseArgs({
  options: {
    role: { type: 'string', default: 'main' },
    accounts: { type: 'string', default: '1000' },
    commits: { type: 'string', default: '80000' },
    hosts: { type: 'string', default: '4' },
    rate: { type: 'string', default: '2000' },
    seconds: { type: 'string', default: '5' },
    consumers: { type: 'string', default: '100' },
    transports: { type: 'string', default: 'uring,uws' },
  },
})
const accountCount = Number(args.accounts)
const commitCount = Number(args.commits)
const hostCount = Number(args.hosts)

type ProducerMsg = { type: 'ports'; ports: number[] } | { type: 'connected'; host: number } | { type: 'sent'; cpuMicros: number }
type ProducerCmd = { cmd: 'send'; from: number; to: number; rate?: number }

function wsFrame(payload: Buffer): Buffer {
  const n = payload.length
  const head = n < 126 ? Buffer.from([0x82, n]) : n < 65536 ? Buffer.from([0x82, 126, n >> 8, n & 255]) : Buffer.concat([Buffer.from([0x82, 127]), Buffer.from(new BigUint64Array([BigInt(n)]).buffer).reverse()])
  return Buffer.concat([head, payload])
}

function writeAll(socket: Socket, chunks: Buffer[]): Promise<void> {
  return new Promise((resolve) => {
    let i = 0
    const pump = (): void => {
      while (i < chunks.length) {
        if (!socket.write(chunks[i++])) return void socket.once('drain', pump)
      }
      resolve()
    }
    pump()
  })
}

async function producer(): Promise<void> {
  const { frames } = await framesFor(accountCount, commitCount)
  const framed = frames.map(wsFrame)
  const timeAt = framed.map((f) => f.indexOf(placeholderTime, 0, 'latin1'))
  const hostOf = (i: number): number => (i % accountCount) % hostCount
  const sockets: (Socket | undefined)[] = new Array(hostCount)
  const send = (m: ProducerMsg): void => void process.send!(m)
  const servers: Server[] = []
  for (let h = 0; h < hostCount; h++) {
    const handler = createServer((req, res) => {
      res.writeHead(req.url?.startsWith('/xrpc/com.atproto.server.describeServer') ? 200 : 501, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ did: 'did:web:localhost', availableUserDomains: ['.test'] }))
    })
    handler.on('upgrade', (req, socket: Socket) => {
      const accept = createHash('sha1').update(`${String(req.headers['sec-websocket-key'])}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64')
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`)
      socket.setNoDelay(true)
      socket.on('data', () => {}) // pings and the like: a fake PDS may ignore them
      socket.on('error', () => {})
      sockets[h] = socket
      send({ type: 'connected', host: h })
    })
    await new Promise<void>((resolve, reject) => handler.once('error', reject).listen(0, '127.0.0.1', resolve))
    servers.push(handler)
    // The relay resolves `localhost` itself; answer on ::1 too where there is one.
    const v6 = createServer()
    v6.on('request', (req, res) => handler.emit('request', req, res))
    v6.on('upgrade', (req, socket, head) => handler.emit('upgrade', req, socket, head))
    v6.on('error', () => {})
    v6.listen((handler.address() as AddressInfo).port, '::1')
  }
  process.on('message', (m: ProducerCmd) => {
    void (async () => {
      const idx = Array.from({ length: m.to - m.from }, (_, k) => m.from + k)
      if (m.rate === undefined) {
        await Promise.all(sockets.map((s, h) => writeAll(s as Socket, idx.filter((i) => hostOf(i) === h).map((i) => framed[i]))))
      } else {
        const t0 = performance.now()
        for (let k = 0; k < idx.length; ) {
          const due = Math.min(idx.length, Math.floor(((performance.now() - t0) * m.rate) / 1000) + 1)
          for (; k < due; k++) {
            const i = idx[k]
            const wall = performance.timeOrigin + performance.now()
            const iso = new Date(Math.floor(wall)).toISOString()
            framed[i].write(`${iso.slice(0, 23)}${String(Math.floor((wall * 1000) % 1000)).padStart(3, '0')}Z`, timeAt[i], 'latin1')
            sockets[hostOf(i)]!.write(framed[i])
          }
          await new Promise((r) => setTimeout(r, 1))
        }
      }
      const cpu = process.cpuUsage()
      send({ type: 'sent', cpuMicros: cpu.user + cpu.system })
    })()
  })
  send({ type: 'ports', ports: servers.map((s) => (s.address() as AddressInfo).port) })
}

// ---------- main: relay runs, consumers, figures ----------

interface ConsumerStats {
  bytes: number
  messages: number
  closed: number
  micros: number
  cpuMicros: number
  samples: number
  p50: number
  p90: number
  p99: number
  max: number
}

interface RunResult {
  commitsPerSec?: number
  p50Ms?: number
  p99Ms?: number
  samples?: number
  relayCpu: number
  consumerCpu: number
  producerCpu: number
  note?: string
}

function consumerBinary(): string {
  const src = join(packageRoot, 'bench', 'native', 'relay_latency.cc')
  const bin = join(packageRoot, 'build', 'bench', 'relay_latency')
  const newest = Math.max(statSync(src).mtimeMs, statSync(join(dirname(src), 'ws_consumer_util.h')).mtimeMs)
  if (!existsSync(bin) || statSync(bin).mtimeMs < newest) {
    mkdirSync(dirname(bin), { recursive: true })
    const r = spawnSync('g++', ['-std=c++20', '-O2', '-Wall', '-Wextra', '-Werror', '-o', bin, src], { stdio: 'inherit' })
    if (r.status !== 0) throw new Error('building bench/native/relay_latency.cc failed')
  }
  return bin
}

// CPU seconds (user + system) a process has used, from /proc.
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}

class Consumers {
  private constructor(
    private readonly child: ChildProcess,
    private readonly next: () => Promise<string>,
  ) {}

  static async start(port: number, count: number): Promise<Consumers> {
    const child = spawn(consumerBinary(), ['--port', String(port), '--consumers', String(count)], { stdio: ['pipe', 'pipe', 'inherit'] })
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]()
    const next = async (): Promise<string> => (await lines.next()).value as string
    if (!(await next()).startsWith('ready')) throw new Error('consumers did not get ready')
    return new Consumers(child, next)
  }

  async stats(): Promise<ConsumerStats> {
    this.child.stdin!.write('stats\n')
    return JSON.parse(await this.next()) as ConsumerStats
  }

  reset(): void {
    this.child.stdin!.write('reset\n')
  }

  end(): void {
    this.child.stdin!.end()
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

async function main(): Promise<void> {
  const { accounts, frames } = await framesFor(accountCount, commitCount)
  let raw = 0
  for (let i = 0; i < 3; i++) raw = Math.max(raw, benchRawVerify({ curve: 'secp256k1', threads: 2, iterations: 20_000 }).verifiesPerSec)
  console.log(`raw secp256k1 verify on 2 threads (benchRawVerify, best of 3): ${Math.round(raw)}/s; ${frames.length} commits for ${accounts.length} accounts over ${hostCount} hosts`)

  const plc = await FakePlc.start()
  const prod = fork(self, ['--role', 'producer', '--accounts', String(accountCount), '--commits', String(commitCount), '--hosts', String(hostCount)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const waiters: ((m: ProducerMsg) => boolean)[] = []
  prod.on('message', (m: ProducerMsg) => {
    for (const w of [...waiters]) if (w(m)) waiters.splice(waiters.indexOf(w), 1)
  })
  const expect = <T extends ProducerMsg['type']>(type: T, count = 1): Promise<Extract<ProducerMsg, { type: T }>> =>
    new Promise((resolve) => {
      let seen = 0
      waiters.push((m) => m.type === type && ++seen === count && (resolve(m as Extract<ProducerMsg, { type: T }>), true))
    })
  const { ports } = await expect('ports')
  plc.set(...accounts.map((a, i) => ({ did: a.did, handle: `bench${i}.test`, key: { type: 'Multikey', publicKeyMultibase: a.multibase }, pdsEndpoint: `http://localhost:${ports[i % hostCount]}` })))
  const producerCpu = async (): Promise<number> => {
    const done = expect('sent')
    return (await done).cpuMicros
  }

  const run = async (io: IoMode, mode: 'throughput' | 'latency'): Promise<RunResult> => {
    const consumersN = mode === 'throughput' ? 1 : Number(args.consumers)
    const relay = await RelayProcess.start({ plcHost: plc.url, io, args: ['--default-account-limit', '100000000'] })
    const cons = await Consumers.start(relay.port, consumersN)
    try {
      const connected = expect('connected', hostCount)
      for (const p of ports) await relay.subscribe(`localhost:${p}`)
      await connected
      const delivered = async (total: number, stallMs: number, onSample?: (s: ConsumerStats) => void): Promise<ConsumerStats> => {
        let last = await cons.stats()
        let lastChange = Date.now()
        while (last.messages < total * consumersN && Date.now() - lastChange < stallMs) {
          await sleep(100)
          const s = await cons.stats()
          if (s.messages !== last.messages) lastChange = Date.now()
          last = s
          onSample?.(s)
        }
        return last
      }
      // Warm-up: every account's first commit (identity resolution, first state).
      let sent = producerCpu()
      prod.send({ cmd: 'send', from: 0, to: accountCount } satisfies ProducerCmd)
      const warm = await delivered(accountCount, 30_000)
      const p0 = await sent
      if (warm.messages < accountCount * consumersN) {
        return { relayCpu: 0, consumerCpu: 0, producerCpu: 0, note: `warm-up stalled: ${warm.messages / consumersN} of ${accountCount} first commits came out\n${relay.tail(10)}` }
      }
      cons.reset()
      const cpu0 = cpuSeconds(relay.child.pid!)
      const c0 = await cons.stats()
      const result: RunResult = { relayCpu: 0, consumerCpu: 0, producerCpu: 0 }
      sent = producerCpu()
      if (mode === 'throughput') {
        const n = frames.length - accountCount
        const marks: { t: number; m: number }[] = []
        prod.send({ cmd: 'send', from: accountCount, to: frames.length } satisfies ProducerCmd)
        const end = await delivered(frames.length, 10_000, (s) => marks.push({ t: s.micros, m: s.messages - c0.messages }))
        // The steady middle: from 10 % to 90 % of the commits.
        const at = (f: number): { t: number; m: number } => marks.find((x) => x.m >= f * n) ?? marks[marks.length - 1]
        const a = at(0.1)
        const b = at(0.9)
        if (b.t > a.t) result.commitsPerSec = ((b.m - a.m) * 1e6) / (b.t - a.t)
        if (end.messages - c0.messages < n) result.note = `only ${end.messages - c0.messages} of ${n} commits came out`
      } else {
        const n = Math.min(Number(args.rate) * Number(args.seconds), frames.length - accountCount)
        prod.send({ cmd: 'send', from: accountCount, to: accountCount + n, rate: Number(args.rate) } satisfies ProducerCmd)
        await sent
        const end = await delivered(accountCount + n, 5_000)
        result.p50Ms = end.p50 / 1000
        result.p99Ms = end.p99 / 1000
        result.samples = end.samples
        if (end.samples < n * consumersN) result.note = `${end.samples} of ${n * consumersN} latency samples (consumers closed: ${end.closed})`
      }
      const p1 = await sent
      const c1 = await cons.stats()
      const secs = (c1.micros - c0.micros) / 1e6
      result.relayCpu = (cpuSeconds(relay.child.pid!) - cpu0) / secs
      result.consumerCpu = (c1.cpuMicros - c0.cpuMicros) / 1e6 / secs
      result.producerCpu = (p1 - p0) / 1e6 / secs
      return result
    } finally {
      cons.end()
      await relay.dispose()
    }
  }

  const pct = (x: number): string => `${Math.round(x * 100)}%`
  const summary: string[] = []
  for (const io of (args.transports as string).split(',').filter((t) => t !== '') as IoMode[]) {
    if (io === 'uring') {
      const probe = probeUring()
      if (!probe.ok) {
        summary.push(`relay uring: skipped (io_uring unavailable: ${probe.code ?? '?'}: ${probe.message})`)
        continue
      }
    }
    const t = await run(io, 'throughput')
    console.log(`${io} throughput: ${t.commitsPerSec === undefined ? 'n/a' : Math.round(t.commitsPerSec)} commits/s; CPU relay ${pct(t.relayCpu)}, producer ${pct(t.producerCpu)}, consumer ${pct(t.consumerCpu)}${t.note ? `; ${t.note}` : ''}`)
    const l = await run(io, 'latency')
    console.log(`${io} latency at ${args.rate} ev/s × ${args.consumers} consumers: p50 ${l.p50Ms?.toFixed(2) ?? 'n/a'} ms, p99 ${l.p99Ms?.toFixed(2) ?? 'n/a'} ms (${l.samples ?? 0} samples); CPU relay ${pct(l.relayCpu)}, producer ${pct(l.producerCpu)}, consumers ${pct(l.consumerCpu)}${l.note ? `; ${l.note}` : ''}`)
    const ratio = t.commitsPerSec === undefined ? undefined : t.commitsPerSec / raw
    summary.push(
      `relay ${io}: ${t.commitsPerSec === undefined ? 'n/a' : Math.round(t.commitsPerSec)} validated commits/s (${ratio?.toFixed(3) ?? 'n/a'}× raw ${Math.round(raw)}/s; goal ≥0.5×: ${ratio !== undefined && ratio >= 0.5 ? 'met' : 'not met'})` +
        ` | ${args.rate} ev/s × ${args.consumers} consumers: p50 ${l.p50Ms?.toFixed(2) ?? 'n/a'} ms, p99 ${l.p99Ms?.toFixed(2) ?? 'n/a'} ms (goal ≤10 ms: ${l.p99Ms !== undefined && l.p99Ms <= 10 ? 'met' : 'not met'})`,
    )
  }
  prod.kill()
  await plc.close()
  for (const line of summary) console.log(line)
}

if (isMainThread) {
  const role = args.role === 'producer' ? producer() : main()
  role.catch((err: unknown) => {
    console.error(err)
    process.exitCode = 1
  })
}
