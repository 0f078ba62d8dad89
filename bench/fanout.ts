// Fan-out benchmark: bytes/s delivered to 100 firehose consumers by the io_uring transport
// and by the uWebSockets.js fallback, same frames, same consumers, in one run.
//
//   node dist/bench/fanout.js [--consumers 100] [--seconds 5] [--mix firehose,small,large]
//                             [--transports uring,uws]
//
// Each (transport, mix) runs in a child process of its own (a fresh heap, one transport per
// process, as in production). The consumers are bench/native/loadgen.cc, an epoll C++ load
// generator in another process, built here with g++ when missing or stale, so that they are
// never the bottleneck. The relay side publishes batches of frames whenever its consumers'
// queues are below a high-water mark, so it runs as fast as it can deliver without evicting
// anyone; what counts is what the load generator received.
// Last line: `fanout: uring <X> MB/s, uws <Y> MB/s, ratio <R>x (100 consumers)` for the
// firehose mix (MB = 10^6 bytes).
import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { packageRoot } from '../lib/native.js'
import { createUwsTransport } from '../lib/transport/select.js'
import type { Transport, TransportKind } from '../lib/transport/types.js'
import { createUringTransport, probeUring } from '../lib/transport/uring.js'

// Frame size mixes: [probability, min bytes, max bytes].
const mixes: Record<string, [number, number, number][]> = {
  // Firehose-like: mostly small commits, some with larger CARs, a few big ones; mean ≈ 5 KB
  // (peers.md, summary 3).
  firehose: [
    [0.7, 200, 2_000],
    [0.25, 2_000, 16_000],
    [0.05, 16_000, 128_000],
  ],
  small: [[1, 100, 1_000]],
  large: [[1, 16_000, 64_000]],
}

const { values: args } = parseArgs({
  options: {
    consumers: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '5' },
    mix: { type: 'string', default: 'firehose,small,large' },
    transports: { type: 'string', default: 'uring,uws' },
    run: { type: 'string' },
  },
})
const consumers = Number(args.consumers)
const seconds = Number(args.seconds)

interface Result {
  transport: TransportKind
  mix: string
  skip?: string
  bytesPerSec?: number
  messagesPerSec?: number
  relayCpu?: number
  loadgenCpu?: number
}

function loadgenPath(): string {
  const src = join(packageRoot, 'bench', 'native', 'loadgen.cc')
  const bin = join(packageRoot, 'build', 'bench', 'loadgen')
  const mtime = (p: string): number => {
    try {
      return statSync(p).mtimeMs
    } catch {
      return -1
    }
  }
  // The shared header counts too: a change there rebuilds the binary.
  if (mtime(bin) < Math.max(mtime(src), mtime(join(dirname(src), 'ws_consumer_util.h')))) {
    mkdirSync(dirname(bin), { recursive: true })
    const r = spawnSync('g++', ['-std=c++20', '-O2', '-Wall', '-Wextra', '-Werror', '-o', bin, src], { stdio: 'inherit' })
    if (r.status !== 0) throw new Error('building bench/native/loadgen.cc failed')
  }
  return bin
}

function makeFrames(mix: string, count: number): Buffer[] {
  const bands = mixes[mix]
  if (bands === undefined) throw new Error(`unknown mix ${mix} (${Object.keys(mixes).join(', ')})`)
  const frames: Buffer[] = []
  for (let i = 0; i < count; i++) {
    let r = Math.random()
    const band = bands.find(([p]) => (r -= p) < 0) ?? bands[bands.length - 1]
    frames.push(randomBytes(band[1] + Math.floor(Math.random() * (band[2] - band[1]))))
  }
  return frames
}

async function createTransport(kind: TransportKind): Promise<Transport | string> {
  const limits = { consumerSendQueueBytes: 64 * 1024 * 1024 }
  if (kind === 'uws') return createUwsTransport({ limits })
  const probe = probeUring()
  if (!probe.ok) return `io_uring unavailable: ${probe.code ?? '?'}: ${probe.message}`
  return createUringTransport({ limits })
}

// One measurement, in this (child) process.
async function runOne(kind: TransportKind, mix: string): Promise<Result> {
  const transport = await createTransport(kind)
  if (typeof transport === 'string') return { transport: kind, mix, skip: transport }
  const { port } = await transport.listen({ host: '127.0.0.1', port: 0, handler: () => ({ status: 404 }) })
  const gen = spawn(loadgenPath(), ['--port', String(port), '--consumers', String(consumers)], { stdio: ['pipe', 'pipe', 'inherit'] })
  const lines = createInterface({ input: gen.stdout })[Symbol.asyncIterator]()
  const next = async (): Promise<string> => (await lines.next()).value as string
  if (!(await next()).startsWith('ready')) throw new Error('load generator did not get ready')
  while (transport.stats().consumers < consumers) await new Promise((r) => setTimeout(r, 5))

  const frames = makeFrames(mix, 1024)
  const batch = 32
  const highWater = consumers * 1024 * 1024
  let running = true
  let at = 0
  const publish = (): void => {
    if (!running) return
    let full = false
    for (let i = 0; i < 64; i++) {
      if (transport.stats().queuedSendBytes >= highWater) {
        full = true
        break
      }
      transport.broadcast(frames.slice(at, at + batch))
      at = (at + batch) % frames.length
    }
    // When the consumers are behind, sleep a millisecond instead of spinning: on 2 vCPUs a
    // publisher busy-polling stats() takes the core the io_uring thread needs (uWS sends on
    // the JS thread, so spinning would penalise only the io_uring transport).
    if (full) setTimeout(publish, 1)
    else setImmediate(publish)
  }
  publish()
  const mark = async (): Promise<{ bytes: number; messages: number; micros: number; cpuMicros: number }> => {
    gen.stdin.write('mark\n')
    return JSON.parse(await next()) as { bytes: number; messages: number; micros: number; cpuMicros: number }
  }
  await new Promise((r) => setTimeout(r, 1000)) // warm-up
  const cpu0 = process.cpuUsage()
  const a = await mark()
  await new Promise((r) => setTimeout(r, seconds * 1000))
  const b = await mark()
  const cpu = process.cpuUsage(cpu0)
  running = false
  gen.stdin.end()
  await transport.close()
  const secs = (b.micros - a.micros) / 1e6
  return {
    transport: kind,
    mix,
    bytesPerSec: (b.bytes - a.bytes) / secs,
    messagesPerSec: (b.messages - a.messages) / secs,
    relayCpu: (cpu.user + cpu.system) / 1e6 / secs,
    loadgenCpu: (b.cpuMicros - a.cpuMicros) / 1e6 / secs,
  }
}

function child(kind: string, mix: string): Promise<Result> {
  const self = fileURLToPath(import.meta.url)
  const p = spawn(process.execPath, [self, '--run', kind, '--mix', mix, '--consumers', String(consumers), '--seconds', String(seconds)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let out = ''
  p.stdout.on('data', (d: Buffer) => (out += d.toString()))
  return new Promise((resolve, reject) =>
    p.on('exit', (code) => {
      const last = out.trim().split('\n').filter((l) => l.startsWith('{"transport"')).pop()
      if (code !== 0 || last === undefined) reject(new Error(`${kind}/${mix} run failed (${code}): ${out}`))
      else resolve(JSON.parse(last) as Result)
    }),
  )
}

const mb = (r: Result | undefined): string => (r?.bytesPerSec === undefined ? '-' : (r.bytesPerSec / 1e6).toFixed(0))

async function main(): Promise<void> {
  if (args.run !== undefined) {
    console.log(JSON.stringify(await runOne(args.run as TransportKind, args.mix as string)))
    return
  }
  loadgenPath()
  const kinds = (args.transports as string).split(',') as TransportKind[]
  const results: Result[] = []
  for (const mix of (args.mix as string).split(',')) {
    for (const kind of kinds) {
      const r = await child(kind, mix)
      results.push(r)
      const detail = r.skip ?? `${mb(r)} MB/s, ${Math.round(r.messagesPerSec ?? 0)} msg/s, CPU: relay ${((r.relayCpu ?? 0) * 100).toFixed(0)}%, consumers ${((r.loadgenCpu ?? 0) * 100).toFixed(0)}%`
      console.log(`${mix.padEnd(9)} ${kind.padEnd(6)} ${detail}`)
    }
  }
  const firstMix = (args.mix as string).split(',')[0]
  const u = results.find((r) => r.transport === 'uring' && r.mix === firstMix)
  const w = results.find((r) => r.transport === 'uws' && r.mix === firstMix)
  if (u?.bytesPerSec !== undefined && w?.bytesPerSec !== undefined) {
    console.log(`fanout: uring ${mb(u)} MB/s, uws ${mb(w)} MB/s, ratio ${(u.bytesPerSec / w.bytesPerSec).toFixed(2)}x (${consumers} consumers)`)
  } else {
    const part = (name: string, r: Result | undefined): string => (r?.skip !== undefined ? `${name} skipped (${r.skip})` : `${name} ${mb(r)} MB/s`)
    console.log(`fanout: ${part('uring', u)}, ${part('uws', w)}, ratio n/a (${consumers} consumers)`)
  }
}

main().catch((err: unknown) => {
  console.error(err)
  process.exitCode = 1
})
