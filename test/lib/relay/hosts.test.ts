// Upstream subscriptions (lib/relay/hosts.ts) against real WebSocket servers on localhost,
// through the real uWebSockets.js transport's upstream client and real SQLite: resume cursors,
// backoff in real time (shortened), no tight loop for accept-then-drop hosts, offline and its
// slow retry, the relay-loop guard, FutureCursor, SSRF, cursor persistence. The native
// pipeline is stood in for by a decoder that reports each frame's seq to the cursor tracker.
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { IncomingMessage, Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { WebSocketServer } from 'ws'
import type { WebSocket } from 'ws'
import { openStateDb } from '../../../lib/db/database.js'
import type { StateDb } from '../../../lib/db/database.js'
import { setLogSink } from '../../../lib/logger.js'
import { RelayMetrics } from '../../../lib/metrics.js'
import { backoffDefaults, jittered, redialDelayMs } from '../../../lib/relay/backoff.js'
import { CursorTracker } from '../../../lib/relay/cursors.js'
import { HostManager } from '../../../lib/relay/hosts.js'
import type { EventSummary } from '../../../lib/relay/pipeline-types.js'
import { createUwsTransport } from '../../../lib/transport/select.js'
import type { Transport } from '../../../lib/transport/types.js'
import { decodeFrame, encodeFrame } from '../../helpers/atproto-json.js'
import { counter } from './policy-harness.js'

setLogSink(() => {})
const dir = mkdtempSync(join(tmpdir(), 'ringlay-hosts-'))
const cleanups: (() => Promise<void> | void)[] = []
after(async () => {
  for (const c of cleanups.reverse()) await c()
  rmSync(dir, { recursive: true, force: true })
})

// A subscribeRepos server whose behaviour per connection the test chooses.
class Upstream {
  readonly dials: { at: number; cursor: string | null }[] = []
  serverHeader = 'test-pds'
  onConnection: (ws: WebSocket, cursor: string | null) => void = () => {}
  private readonly wss = new WebSocketServer({ noServer: true })
  private constructor(private readonly server: Server) {
    this.wss.on('headers', (headers) => headers.push(`Server: ${this.serverHeader}`))
    server.on('upgrade', (req: IncomingMessage, socket, head) => {
      const cursor = new URL(req.url ?? '/', 'http://x').searchParams.get('cursor')
      this.dials.push({ at: Date.now(), cursor })
      this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, cursor))
    })
  }
  static async start(): Promise<Upstream> {
    const u = new Upstream(createServer((_req, res) => res.writeHead(404).end()))
    await new Promise<void>((r) => u.server.listen(0, '127.0.0.1', r))
    cleanups.push(() => u.close())
    return u
  }
  get hostname(): string {
    return `localhost:${(this.server.address() as AddressInfo).port}`
  }
  async close(): Promise<void> {
    for (const c of this.wss.clients) c.terminate()
    this.server.closeAllConnections()
    await new Promise<void>((r) => this.server.close(() => r()))
  }
}

function event(seq: number): Buffer {
  return encodeFrame({ op: 1, t: '#identity' }, { seq, did: 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa', time: new Date().toISOString() })
}
const futureCursor = encodeFrame({ op: -1 }, { error: 'FutureCursor', message: 'Cursor in the future.' })

interface Rig {
  state: StateDb
  cursors: CursorTracker
  metrics: RelayMetrics
  hosts: HostManager
  transport: Transport
  hostId: number
}

const fast = { ...backoffDefaults, baseMs: 40, maxMs: 200, maxFailures: 4, offlineRetryMs: 300, reconnectMs: 20, progressAfterMs: 60_000 }
let dbs = 0
let ids = 1

// Frames decoded in JS, each seq reported as the pipeline's summaries would; events are
// "dropped" at once so the cursor can move; error frames go to the host manager.
async function rig(hostname: string, opts: { lastSeq?: number; allowInsecureHosts?: boolean; backoff?: typeof fast } = {}): Promise<Rig> {
  const state = openStateDb({ dataDir: join(dir, `db${dbs++}`) })
  const cursors = new CursorTracker()
  const metrics = new RelayMetrics()
  const transport = await createUwsTransport({})
  const host = state.hosts.ensure({ hostname, noTls: true, trusted: false, accountLimit: 100 }).host
  if (opts.lastSeq !== undefined) state.hosts.setCursor(host.id, opts.lastSeq)
  let hosts: HostManager | undefined = undefined
  const ingest = (hostId: number, frames: Buffer[]): void => {
    for (const f of frames) {
      const { header, body } = decodeFrame(f)
      const id = ids++
      if (header.op === -1) {
        const e: EventSummary = { id, hostId, upstreamSeq: -1, type: 'error', did: '', verdict: 'ok', keyVersion: 0, time: '', frameBytes: f.length, name: body.error as string }
        hosts?.upstreamFrame(e)
        continue
      }
      cursors.received(id, hostId, body.seq as number)
      cursors.dropped(id)
    }
  }
  hosts = new HostManager(
    { state, cursors, metrics, connect: (o, hostId, h) => transport.connectUpstream(o, { ...h, onMessages: (m) => ingest(hostId, m) }) },
    { allowInsecureHosts: opts.allowInsecureHosts ?? true, backoff: opts.backoff ?? fast, cursorFlushMs: 60_000 },
  )
  const r: Rig = { state, cursors, metrics, hosts, transport, hostId: host.id }
  cleanups.push(async () => {
    r.hosts.close()
    await transport.close()
    state.close()
  })
  return r
}

async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

test('backoff: real seconds, doubling from 1 s to 60 s with ±20 % jitter; offline retry from maxFailures on', () => {
  const mid = () => 0.5
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8].map((n) => redialDelayMs(n, backoffDefaults, mid)), [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000])
  assert.equal(redialDelayMs(0, backoffDefaults, mid), 1000, 'after progress: a short pause, not a failure')
  assert.equal(redialDelayMs(15, backoffDefaults, mid), 15 * 60_000)
  assert.equal(redialDelayMs(40, backoffDefaults, mid), 15 * 60_000, 'offline hosts are retried, never abandoned')
  assert.equal(jittered(1000, () => 0), 800)
  assert.equal(jittered(1000, () => 0.999999), 1200)
})

test('a new host starts live; a host with a stored cursor resumes after it; a reconnect resumes after what was received', async () => {
  const live = await Upstream.start()
  const a = await rig(live.hostname)
  a.hosts.subscribe(a.hostId)
  await until(() => live.dials.length === 1, 'first dial')
  assert.equal(live.dials[0]?.cursor, null)

  const resumed = await Upstream.start()
  resumed.onConnection = (ws, cursor) => {
    if (cursor === '42') for (const s of [43, 44, 45]) ws.send(event(s))
    else ws.close(1000)
  }
  const b = await rig(resumed.hostname, { lastSeq: 42 })
  b.hosts.subscribe(b.hostId)
  await until(() => b.cursors.receivedSeq(b.hostId) === 45, 'events 43..45')
  assert.equal(resumed.dials[0]?.cursor, '42')
  // The upstream drops the connection; the redial continues after 45.
  for (const c of [...(resumed as unknown as { wss: WebSocketServer }).wss.clients]) c.close(1001)
  await until(() => resumed.dials.length === 2, 'redial')
  assert.equal(resumed.dials[1]?.cursor, '45')
  // Cursors are persisted at flush, up to the low-water mark.
  b.hosts.flushCursors()
  assert.equal(b.state.hosts.get(b.hostId)?.lastSeq, 45)
  assert.equal(await counter(b.metrics, 'relay_host_cursor_writes_total'), 1)
})

test('an upstream that accepts and hangs up without progress is redialled with growing delays, then goes offline and is retried slowly', async () => {
  const up = await Upstream.start()
  up.onConnection = (ws) => ws.close(1000)
  const r = await rig(up.hostname)
  r.hosts.subscribe(r.hostId)
  await until(() => r.state.hosts.get(r.hostId)?.status === 'offline', 'offline', 15_000)
  const gaps = up.dials.slice(1).map((d, i) => d.at - (up.dials[i] as { at: number }).at)
  // maxFailures 4: dials 1..4 fail, delays ~40, 80, 160 ms (±20 %) between them.
  assert.equal(up.dials.length, 4)
  assert.ok(gaps[0]! >= 30 && gaps[1]! >= 60 && gaps[2]! >= 120, `gaps grow: ${gaps.join(', ')}`)
  assert.ok(gaps[2]! > gaps[0]!, `gaps grow: ${gaps.join(', ')}`)
  assert.equal(r.state.hosts.get(r.hostId)?.failures, 4)
  assert.equal(await counter(r.metrics, 'relay_upstream_failures_total', { reason: 'no_progress' }), 4)
  assert.equal(await counter(r.metrics, 'relay_host_status_changes_total', { status: 'offline' }), 1)
  // Offline is not abandoned: the slow retry (300 ms here) dials again; once the host sends
  // events it is active again and its failures are forgotten.
  up.onConnection = (ws) => {
    ws.send(event(7))
    setTimeout(() => ws.close(1000), 50)
  }
  await until(() => r.state.hosts.get(r.hostId)?.status === 'active' && r.state.hosts.get(r.hostId)?.failures === 0, 'active again', 5_000)
  assert.ok(up.dials.length >= 5)
  assert.ok(up.dials[4]!.at - up.dials[3]!.at >= 200, 'offline retry waits offlineRetryMs')
  assert.equal(r.state.hosts.get(r.hostId)?.failures, 0)
})

test('dial failures (nothing listening) back off and are recorded with their reason', async () => {
  const up = await Upstream.start()
  const hostname = up.hostname
  await up.close()
  const r = await rig(hostname)
  r.hosts.subscribe(r.hostId)
  await until(() => (r.state.hosts.get(r.hostId)?.failures ?? 0) >= 2, 'two failures')
  assert.match(r.state.hosts.get(r.hostId)?.lastError ?? '', /connect_refused/)
  assert.ok((await counter(r.metrics, 'relay_upstream_failures_total', { reason: 'connect_refused' })) >= 2)
})

test('loop guard: an upstream whose Server header says atproto-relay is refused and the host banned', async () => {
  const up = await Upstream.start()
  up.serverHeader = 'ringlay (atproto-relay)'
  const r = await rig(up.hostname)
  r.hosts.subscribe(r.hostId)
  await until(() => r.state.hosts.get(r.hostId)?.status === 'banned', 'banned')
  await new Promise((res) => setTimeout(res, 300))
  assert.equal(up.dials.length, 1, 'never redialled')
  assert.equal(await counter(r.metrics, 'relay_upstream_relays_refused_total'), 1)
  assert.equal(r.hosts.isSubscribed(r.hostId), false)
  // A banned host is not dialled again even if asked.
  r.hosts.subscribe(r.hostId)
  await new Promise((res) => setTimeout(res, 100))
  assert.equal(up.dials.length, 1)
})

test('FutureCursor: the host cursor is reset to live (counted), and the relay reconnects without a cursor', async () => {
  const up = await Upstream.start()
  // The PDS's sequence restarted: it is at 3, the relay remembers 900.
  up.onConnection = (ws, cursor) => {
    if (cursor !== null && Number(cursor) > 3) {
      ws.send(futureCursor)
      ws.close(1008, 'FutureCursor')
      return
    }
    ws.send(event(4))
  }
  const r = await rig(up.hostname, { lastSeq: 900 })
  r.hosts.subscribe(r.hostId)
  await until(() => r.cursors.receivedSeq(r.hostId) === 4, 'live event after the reset')
  assert.deepEqual(up.dials.map((d) => d.cursor), ['900', null])
  assert.equal(await counter(r.metrics, 'relay_upstream_future_cursor_resets_total'), 1)
  assert.equal(r.state.hosts.get(r.hostId)?.status, 'active', 'not idle, not dead-ended')
  r.hosts.flushCursors()
  assert.equal(r.state.hosts.get(r.hostId)?.lastSeq, 4, 'the new, lower cursor is persisted')
})

test('SSRF: localhost hosts are not dialled without --allow-insecure-hosts', async () => {
  const up = await Upstream.start()
  const r = await rig(up.hostname, { allowInsecureHosts: false })
  r.hosts.subscribe(r.hostId)
  await until(() => (r.state.hosts.get(r.hostId)?.failures ?? 0) >= 1, 'refused')
  assert.equal(up.dials.length, 0)
  assert.match(r.state.hosts.get(r.hostId)?.lastError ?? '', /ssrf_blocked/)
})

test('startup resumes active hosts (ramped) and leaves banned ones alone', async () => {
  const up = await Upstream.start()
  const r = await rig(up.hostname)
  const banned = r.state.hosts.ensure({ hostname: 'localhost:1', noTls: true, trusted: false, accountLimit: 1, status: 'banned' }).host
  r.hosts.start()
  await until(() => up.dials.length === 1, 'active host dialled')
  assert.equal(r.hosts.isSubscribed(banned.id), false)
  assert.equal(r.hosts.stats().open + r.hosts.stats().dialing, 1)
})
