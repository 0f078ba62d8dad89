// How the ring thread's events reach JS: a napi threadsafe function ("tsfn") against an
// eventfd watched by a libuv uv_poll ("uvpoll"), measured side by side in one process (the
// machine is shared and noisy: compare within a run, not across runs).
//
//   node dist/bench/bridge.js [--events 1000000] [--batch 256] [--window 8] [--pings 2000]
//                             [--rounds 3]
//
// For each bridge, in alternating rounds:
//   idle latency    one event at a time (the next asked for when the last arrived): time from
//                   the ring thread stamping it (CLOCK_MONOTONIC) to the JS callback seeing it;
//   throughput      `events` synthetic events, `batch` per ring turn, with `window` batches
//                   outstanding (JS asks for more as it drains, so the queue stays bounded and
//                   the latency means something): events/s, JS callbacks per second, and the
//                   latency of events under that load (stamp → JS), p50/p99;
//   JS CPU          user+system CPU of the process per million events during the flood.
// The events are the transport's real ones (same queue, same napi conversion); only their
// source is synthetic (CommandKind::bench_events).
import { parseArgs } from 'node:util'
import { createUringTransport, probeUring, type BridgeKind, type NativeEvent, type UringTransport } from '../lib/transport/uring.js'

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    batch: { type: 'string', default: '256' },
    window: { type: 'string', default: '8' },
    pings: { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '3' },
  },
})
const events = Number(values.events)
const batch = Number(values.batch)
const windowBatches = Number(values.window)
const pings = Number(values.pings)
const rounds = Number(values.rounds)

interface Result {
  idleP50: number
  idleP99: number
  eventsPerSec: number
  callbacksPerSec: number
  loadP50: number
  loadP99: number
  cpuMsPerMillion: number
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]
}

function now(): number {
  return Number(process.hrtime.bigint())
}

async function idleLatency(t: UringTransport): Promise<Float64Array> {
  const lat = new Float64Array(pings)
  for (let i = 0; i < pings; i++) {
    const got = new Promise<NativeEvent>((resolve) => (t.onBench = (evs) => resolve(evs[0])))
    t.benchEvents(1, 1)
    const e = await got
    lat[i] = (now() - e.t!) / 1000
  }
  return lat.sort()
}

async function flood(t: UringTransport): Promise<{ seconds: number; callbacks: number; lat: Float64Array; cpuMs: number }> {
  // Latency samples: every 97th event, enough for percentiles without slowing the drain.
  const lat: number[] = []
  let received = 0
  let requested = 0
  let callbacks = 0
  const ask = (n: number): void => {
    n = Math.min(n, events - requested)
    if (n <= 0) return
    requested += n
    t.benchEvents(n, batch)
  }
  const cpu0 = process.cpuUsage()
  const t0 = now()
  await new Promise<void>((resolve) => {
    t.onBench = (evs) => {
      callbacks++
      const at = now()
      for (const e of evs) if (e.seq! % 97 === 0) lat.push((at - e.t!) / 1000)
      received += evs.length
      if (received >= events) resolve()
      else ask(evs.length)
    }
    ask(batch * windowBatches)
  })
  const seconds = (now() - t0) / 1e9
  const cpu = process.cpuUsage(cpu0)
  return { seconds, callbacks, lat: Float64Array.from(lat).sort(), cpuMs: (cpu.user + cpu.system) / 1000 }
}

async function measure(kind: BridgeKind): Promise<Result> {
  const t = createUringTransport({ bridge: kind })
  if (t.bridge !== kind) throw new Error(`asked for ${kind}, got ${t.bridge} (RINGLAY_BRIDGE set?)`)
  try {
    const idle = await idleLatency(t)
    const f = await flood(t)
    return {
      idleP50: percentile(idle, 0.5),
      idleP99: percentile(idle, 0.99),
      eventsPerSec: events / f.seconds,
      callbacksPerSec: f.callbacks / f.seconds,
      loadP50: percentile(f.lat, 0.5),
      loadP99: percentile(f.lat, 0.99),
      cpuMsPerMillion: (f.cpuMs * 1e6) / events,
    }
  } finally {
    await t.close()
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}

async function main(): Promise<void> {
  const probe = probeUring()
  if (!probe.ok) {
    console.log(`bridge: skipped, io_uring unavailable: ${probe.message}`)
    return
  }
  delete process.env.RINGLAY_BRIDGE
  const kinds: BridgeKind[] = ['tsfn', 'uvpoll']
  const results: Record<BridgeKind, Result[]> = { tsfn: [], uvpoll: [] }
  for (let r = 0; r < rounds; r++) {
    // Alternate the order so drift on the shared machine hits both alike.
    for (const k of r % 2 === 0 ? kinds : [...kinds].reverse()) results[k].push(await measure(k))
  }
  console.log(`events ${events}, batch ${batch}/turn, window ${windowBatches} batches, pings ${pings}, rounds ${rounds} (median of rounds)`)
  console.log('bridge   idle p50/p99 µs   flood events/s   callbacks/s   load p50/p99 µs   JS CPU ms per 1M events')
  for (const k of kinds) {
    const m = (f: (x: Result) => number) => median(results[k].map(f))
    console.log(
      `${k.padEnd(8)} ${m((x) => x.idleP50).toFixed(0).padStart(6)} / ${m((x) => x.idleP99).toFixed(0).padEnd(6)}` +
        `   ${m((x) => x.eventsPerSec).toFixed(0).padStart(12)}   ${m((x) => x.callbacksPerSec).toFixed(0).padStart(11)}` +
        `   ${m((x) => x.loadP50).toFixed(0).padStart(7)} / ${m((x) => x.loadP99).toFixed(0).padEnd(7)}` +
        `   ${m((x) => x.cpuMsPerMillion).toFixed(0).padStart(8)}`,
    )
  }
}

await main()
