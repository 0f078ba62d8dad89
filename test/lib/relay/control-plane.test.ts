// The control plane wired together (lib/relay/control-plane.ts): admin requestCrawl → host
// subscription on the uWebSockets.js transport → frames into the pipeline → policy (identity
// from the fake PLC, keys down, held events retried) → written notices → account state and
// cursors in SQLite → shutdown flush → resume with ?cursor= after a restart.
//
// The pipeline is a stand-in written for this test: it decodes frames in JS, answers `no_key`
// until a key was pushed for the DID and `ok` after (no signature or MST checks), and
// "writes" accepted events on the next turn. The native pipeline is exercised by the
// acceptance tests (scenarios, replay, crash) through `ringlay serve`.
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseConfig } from '../../../lib/config.js'
import { openStateDb } from '../../../lib/db/database.js'
import { Router } from '../../../lib/http/router.js'
import { setLogSink } from '../../../lib/logger.js'
import { RelayMetrics } from '../../../lib/metrics.js'
import { ControlPlane } from '../../../lib/relay/control-plane.js'
import type { Decision, EventSummary, EventType, KeyEntry, PipelineBatch, RelayPipeline } from '../../../lib/relay/pipeline-types.js'
import { createUwsTransport } from '../../../lib/transport/select.js'
import { decodeFrame } from '../../helpers/atproto-json.js'
import { FakeAccount, FakePds } from '../../helpers/fake-pds.js'
import { FakePlc } from '../../helpers/fake-plc.js'

setLogSink(() => {})
const dir = mkdtempSync(join(tmpdir(), 'ringlay-control-'))
after(() => rmSync(dir, { recursive: true, force: true }))

class StandInPipeline implements RelayPipeline {
  written: number[] = []
  keys = new Map<string, KeyEntry['key']>()
  private handler: ((b: PipelineBatch) => void) | undefined
  private frames = new Map<number, { hostId: number; frame: Buffer }>()
  private unwritten: number[] = []
  private nextId = 1
  private seq = 0

  onBatch(handler: (b: PipelineBatch) => void): void {
    this.handler = handler
  }
  ingest(hostId: number, frames: Buffer[]): void {
    const events = frames.map((frame) => {
      const id = this.nextId++
      this.frames.set(id, { hostId, frame })
      return this.summarize(id, hostId, frame)
    })
    this.handler?.({ events, written: null })
  }
  decide(ds: Decision[]): void {
    const retried: EventSummary[] = []
    for (const d of ds) {
      if (!('id' in d)) continue
      if (d.action === 'retry') {
        const f = this.frames.get(d.id)!
        retried.push(this.summarize(d.id, f.hostId, f.frame))
      } else if (d.action === 'drop') this.frames.delete(d.id)
      else this.unwritten.push(d.id)
    }
    setImmediate(() => {
      const ids = this.unwritten
      this.unwritten = []
      const seqs = ids.map(() => ++this.seq)
      this.written.push(...ids)
      this.handler?.({ events: retried, written: ids.length === 0 ? null : { ids, seqs, durableSeq: this.seq } })
    })
  }
  pendingForHost(): number {
    return this.frames.size
  }
  setKeys(entries: KeyEntry[]): void {
    for (const e of entries) this.keys.set(e.did, e.key)
  }
  deleteKeys(dids: string[]): void {
    for (const d of dids) this.keys.delete(d)
  }
  takedown(): void {}
  stats(): Record<string, number> {
    return { durableSeq: this.seq }
  }
  async close(): Promise<void> {
    await new Promise((r) => setImmediate(r))
  }

  private summarize(id: number, hostId: number, frame: Buffer): EventSummary {
    const { header, body } = decodeFrame(frame)
    const type = (header.op === -1 ? 'error' : (header.t ?? '#unknown').slice(1)) as EventType
    const did = String(body.repo ?? body.did ?? '')
    const e: EventSummary = { id, hostId, upstreamSeq: typeof body.seq === 'number' ? body.seq : -1, type, did, verdict: 'ok', keyVersion: 1, time: String(body.time ?? ''), frameBytes: frame.length }
    if (type === 'commit') {
      Object.assign(e, { rev: body.rev, since: body.since, commitCid: String(body.commit), dataCid: `data-${String(body.rev)}`, prevData: `data-${String(body.since)}` })
      if (!this.keys.has(did)) e.verdict = 'no_key'
    }
    return e
  }
}

async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

test('requestCrawl → subscription → held, resolved, retried, written → state and cursor persisted → resumed after a restart', async () => {
  const plc = await FakePlc.start()
  const pds = await FakePds.start()
  const accounts = await Promise.all([FakeAccount.create(), FakeAccount.create()])
  plc.set(...accounts.map((a) => a.identity(pds.url)))
  const config = parseConfig(['--plc-host', plc.url, '--allow-insecure-hosts', '--admin-password', 'pw', '--data-dir', dir], {})
  const state = openStateDb({ dataDir: dir })
  const transport = await createUwsTransport({})
  const start = (pipeline: StandInPipeline): ControlPlane =>
    new ControlPlane({ config, state, transport, pipeline, metrics: new RelayMetrics(), hostOptions: { cursorFlushMs: 60_000 } })
  try {
    const pipeline = new StandInPipeline()
    const control = start(pipeline)
    const router = new Router(control.routes)
    const res = await router.handle({
      method: 'POST', path: '/admin/pds/requestCrawl', query: '', remoteAddress: '127.0.0.1', body: Buffer.from(JSON.stringify({ hostname: pds.hostname })),
      headers: { authorization: `Basic ${Buffer.from('admin:pw').toString('base64')}` },
    })
    assert.equal(res.status, 200)
    await pds.waitForSubscriber()
    const published = []
    for (let i = 0; i < 6; i++) published.push(await pds.publishCommit(accounts[i % 2]!))
    await until(() => pipeline.written.length === 6, 'six commits written')
    // The first event of each account waited for its identity; the key went down first.
    for (const a of accounts) {
      assert.equal(pipeline.keys.get(a.did)?.multibase, a.publicKeyMultibase)
      // Written changes reach SQLite within stateFlushMs (250 ms), together.
      await until(() => state.accounts.get(a.did)?.rev === a.rev, `${a.did}'s state stored once written`)
    }
    const host = state.hosts.byHostname(pds.hostname)!
    await control.close()
    assert.equal(state.hosts.get(host.id)?.lastSeq, pds.headSeq, 'cursor flushed at shutdown')

    // Restart on the same state: the host is resumed with ?cursor=.
    const next = pds.nextSubscriber()
    const again = start(new StandInPipeline())
    again.start()
    assert.equal((await next).cursor, pds.headSeq)
    await again.close()
  } finally {
    await transport.close()
    state.close()
    await pds.close()
    await plc.close()
  }
})
