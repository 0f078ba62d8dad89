// The relay pipeline (lib/relay/pipeline.ts over native/relay) on both transports, with real
// sockets and a real event log: a fake PDS (a real WebSocket server) sends signed commits built
// by @atproto/repo; summaries arrive with verdicts; the test decides (accept, drop, replace);
// a raw consumer must receive exactly the accepted frames, in decision order, with relay seqs
// patched in and every other byte as the PDS sent it. Also: WrittenNotices, per-connection seq
// checks, restart on the same data dir, and a flood that pauses the upstream. Every test
// releases what it opened however it ends (withCleanup): a failure must be reported, not turn
// into a test file that never exits.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createPipeline, type NativeRelayPipeline } from '../../../lib/relay/pipeline.js'
import type { Decision, EventSummary, PipelineBatch } from '../../../lib/relay/pipeline-types.js'
import type { Transport } from '../../../lib/transport/types.js'
import { decodeFrame, encodeFrame } from '../../helpers/atproto-json.js'
import { type Defer, withCleanup } from '../../helpers/cleanup.js'
import { FakeAccount, FakePds } from '../../helpers/fake-pds.js'
import { FirehoseConsumer } from '../../helpers/firehose-consumer.js'
import { transportVariants, until } from '../../helpers/transports.js'

const variants = transportVariants().filter((v) => v.name === 'uring' || v.name === 'uws')

interface Rig {
  transport: Transport
  pipeline: NativeRelayPipeline
  pds: FakePds
  port: number
  dataDir: string
  batches: PipelineBatch[]
  events: EventSummary[]
  written: { id: number; seq: number }[]
  durable: number
}

// Everything it opens is closed by `defer` (the data dir and PDS only if it made them).
async function rig(defer: Defer, create: () => Promise<Transport>, opts: { dataDir?: string; hostPendingLimit?: number; pds?: FakePds } = {}): Promise<Rig> {
  const transport = await create()
  defer(() => transport.close())
  const { port } = await transport.listen({ host: '127.0.0.1', port: 0, handler: () => ({ status: 404 }) })
  let dataDir = opts.dataDir
  if (dataDir === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'ringlay-pipeline-'))
    defer(() => rmSync(dir, { recursive: true, force: true }))
    dataDir = dir
  }
  const pipeline = createPipeline({ transport, dataDir, threads: 2, syncIntervalMs: 5, ...(opts.hostPendingLimit === undefined ? {} : { hostPendingLimit: opts.hostPendingLimit }) })
  defer(() => pipeline.close())
  let pds = opts.pds
  if (pds === undefined) {
    const own = await FakePds.start()
    defer(() => own.close())
    pds = own
  }
  const r: Rig = { transport, pipeline, pds, port, dataDir, batches: [], events: [], written: [], durable: 0 }
  pipeline.onBatch((b) => {
    r.batches.push(b)
    r.events.push(...b.events)
    if (b.written !== null) {
      b.written.ids.forEach((id, i) => r.written.push({ id, seq: b.written?.seqs[i] as number }))
      r.durable = Math.max(r.durable, b.written.durableSeq)
    }
  })
  return r
}

function subscribe(r: Rig, hostId: number): { opened: Promise<void>; closed: Promise<void> } {
  let opened!: () => void
  let closed!: () => void
  const o = new Promise<void>((resolve) => (opened = resolve))
  const c = new Promise<void>((resolve) => (closed = resolve))
  r.pipeline.connectUpstream(
    { url: `ws://127.0.0.1:${r.pds.port}/xrpc/com.atproto.sync.subscribeRepos`, address: '127.0.0.1' },
    hostId,
    { onOpen: () => opened(), onClose: () => closed() },
  )
  return { opened: o, closed: c }
}

// Stops a rig before the test ends (its deferred closes then find it closed).
async function stop(r: Rig): Promise<void> {
  await r.pipeline.close()
  await r.transport.close()
}

function keysFor(r: Rig, accounts: FakeAccount[]): void {
  r.pipeline.setKeys(accounts.map((a) => ({ did: a.did, key: { multibase: a.publicKeyMultibase, type: 'Multikey' } })))
}

// The upstream frame as the relay must forward it: only seq differs (the PDS encodes
// canonically, so re-encoding with another seq gives exactly the patched bytes).
function withSeq(bytes: Buffer, seq: number): Buffer {
  const { header, body } = decodeFrame(bytes)
  return encodeFrame(header, { ...body, seq })
}

for (const v of variants) {
  test(`summaries, decisions and a consumer receiving exactly the accepted frames (${v.name})`, { skip: v.skip }, () => withCleanup(async (defer) => {
    const r = await rig(defer, () => v.create())
    const accounts = await Promise.all([0, 1, 2].map(() => FakeAccount.create()))
    keysFor(r, accounts)
    const consumer = await FirehoseConsumer.connect({ port: r.port })
    defer(() => consumer.close())
    const sub = subscribe(r, 5)
    await r.pds.waitForSubscriber()
    await sub.opened
    const sent: Buffer[] = []
    for (let i = 0; i < 12; i++) {
      await r.pds.publishCommit(accounts[i % 3])
      sent.push(r.pds.history[r.pds.history.length - 1].bytes)
    }
    r.pds.publishBody('account', { did: accounts[0].did, time: new Date().toISOString(), active: true })
    await until(() => r.events.length === 13, '13 summaries')
    const commits = r.events.filter((e) => e.type === 'commit')
    assert.equal(commits.length, 12)
    for (const e of commits) {
      assert.equal(e.verdict, 'ok', `commit ${e.upstreamSeq}: ${e.verdict}`)
      assert.equal(e.hostId, 5)
      assert.ok(e.keyVersion > 0)
      assert.ok(typeof e.rev === 'string' && typeof e.commitCid === 'string' && typeof e.dataCid === 'string' && typeof e.prevData === 'string')
      assert.deepEqual(e.flags, [])
      assert.equal(e.frameBytes, sent[e.upstreamSeq - 1].length)
    }
    for (const a of accounts) {
      const seqs = commits.filter((e) => e.did === a.did).map((e) => e.upstreamSeq)
      assert.deepEqual(seqs, [...seqs].sort((x, y) => x - y), 'one DID in upstream order')
    }
    const account = r.events.find((e) => e.type === 'account') as EventSummary
    assert.equal(account.active, true)

    // Account 2's commits dropped; 1's accepted before 0's; the #account replaced.
    const decisions: Decision[] = []
    const ofAccount = (i: number): EventSummary[] => commits.filter((e) => e.did === accounts[i].did)
    for (const e of ofAccount(2)) decisions.push({ id: e.id, action: 'drop', reason: 'test' })
    for (const i of [1, 0]) for (const e of ofAccount(i)) decisions.push({ id: e.id, action: 'accept' })
    decisions.push({ id: account.id, action: 'replace', frame: { type: 'account', did: accounts[0].did, active: false, status: 'suspended', time: account.time } })
    r.pipeline.decide(decisions)
    const expectIds = decisions.filter((d) => d.action !== 'drop').map((d) => (d as { id: number }).id)
    await consumer.waitForEvents(9)
    await until(() => r.written.length === 9, 'notices for 9 writes')
    assert.deepEqual(r.written.map((w) => w.id), expectIds, 'notices in decision order (replaced included)')
    assert.deepEqual(consumer.seqs, r.written.map((w) => w.seq), 'the consumer got the written seqs, in order')
    for (let i = 0; i < 8; i++) {
      const e = r.events.find((x) => x.id === expectIds[i]) as EventSummary
      const want = withSeq(sent[e.upstreamSeq - 1], r.written[i].seq)
      assert.ok(consumer.events[i].bytes.equals(want), `frame ${i}: the upstream bytes with only seq patched`)
    }
    const last = consumer.events[8]
    assert.equal(last.header.t, '#account')
    assert.deepEqual({ ...last.body, seq: 0 }, { did: accounts[0].did, seq: 0, time: account.time, active: false, status: 'suspended' })
    await until(() => r.durable >= r.written[8].seq, 'the durable seq to pass the last write')
    await new Promise((res) => setTimeout(res, 200))
    assert.equal(consumer.events.length, 9, 'nothing dropped comes out')
    const s = r.pipeline.stats()
    assert.equal(s.accepted, 8)
    assert.equal(s.replaced, 1)
    assert.equal(s.dropped, 4)
    assert.equal(s.pending, 0)
    assert.equal(r.pipeline.pendingForHost(5), 0)
  }))

  test(`per-connection seq order, bad frames and a restart continuing seqs (${v.name})`, { skip: v.skip }, () => withCleanup(async (defer) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ringlay-pipeline-'))
    defer(() => rmSync(dataDir, { recursive: true, force: true }))
    const pds = await FakePds.start()
    defer(() => pds.close())
    let r = await rig(defer, () => v.create(), { dataDir, pds })
    const did = 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa'
    const identity = (seq: number): Buffer => encodeFrame({ op: 1, t: '#identity' }, { did, seq, time: new Date().toISOString() })
    const sub = subscribe(r, 9)
    await pds.waitForSubscriber()
    await sub.opened
    pds.publish([identity(10), identity(11), identity(11), identity(7), identity(12), encodeFrame({ op: 1, t: '#commit' }, { seq: 13 })])
    await until(() => r.events.length === 6, '6 summaries')
    // Every frame is reported exactly once, with its verdict.
    assert.equal(new Set(r.events.map((e) => e.id)).size, 6, 'one summary per frame')
    assert.deepEqual(
      r.events.map((e) => `${e.upstreamSeq}:${e.verdict}`).sort(),
      ['10:ok', '11:ok', '11:seq_out_of_order', '12:ok', '13:missing_field', '7:seq_out_of_order'],
    )
    // The order promised is per DID (pipeline-types.ts): the DID's validated frames in upstream
    // order. Frame 13 has no DID, so nothing orders it against them (validation runs on two
    // workers), and cursors.ts follows each host's finished prefix in arrival order anyway.
    assert.deepEqual(r.events.filter((e) => e.did === did && e.verdict !== 'seq_out_of_order').map((e) => e.upstreamSeq), [10, 11, 12])
    // Replays are reported at once (not validated), in arrival order.
    assert.deepEqual(r.events.filter((e) => e.verdict === 'seq_out_of_order').map((e) => e.upstreamSeq), [11, 7])
    r.pipeline.decide(r.events.map((e): Decision => (e.verdict === 'ok' ? { id: e.id, action: 'accept' } : { id: e.id, action: 'drop', reason: e.verdict })))
    await until(() => r.written.length === 3, '3 writes')
    const lastSeq = r.written[2].seq
    assert.equal(r.pipeline.stats().outOfOrder, 2)
    // Takedown runs off the JS thread (it fsyncs the takedown set); close waits for it.
    r.pipeline.takedown(did)
    await until(() => r.pipeline.stats().logTakedowns === 1, 'the takedown to be recorded')
    await stop(r)

    // Same data dir: seqs continue above the last one.
    r = await rig(defer, () => v.create(), { dataDir, pds })
    const again = subscribe(r, 9)
    await pds.nextSubscriber()
    await again.opened
    pds.publishBody('identity', { did: 'did:plc:bbbbbbbbbbbbbbbbbbbbbbbb', time: new Date().toISOString() })
    await until(() => r.events.length === 1, 'a summary after the restart')
    r.pipeline.decide([{ id: r.events[0].id, action: 'accept' }])
    await until(() => r.written.length === 1, 'a write after the restart')
    assert.ok(r.written[0].seq > lastSeq, `seq ${r.written[0].seq} continues above ${lastSeq}`)
    assert.equal(r.pipeline.checkCursor(lastSeq), 'replay')
    assert.equal(r.pipeline.checkCursor(r.written[0].seq + 100), 'future')
  }))

  test(`a flood pauses the upstream and pending stays bounded (${v.name})`, { skip: v.skip }, () => withCleanup(async (defer) => {
    const limit = 200
    const r = await rig(defer, () => v.create(), { hostPendingLimit: limit })
    const sub = subscribe(r, 3)
    const conn = await r.pds.waitForSubscriber()
    await sub.opened
    // Nothing is decided yet: every event stays pending.
    const total = 60_000
    const did = 'did:plc:cccccccccccccccccccccccc'
    const handle = 'flood-' + 'x'.repeat(200) + '.test'
    for (let i = 0; i < total; i++) r.pds.publishBody('identity', { did, time: new Date().toISOString(), handle })
    let maxPending = 0
    let sawPause = false
    const deadline = Date.now() + 3000
    while (Date.now() < deadline) {
      const s = r.pipeline.stats()
      maxPending = Math.max(maxPending, s.pending)
      sawPause ||= s.pausedHosts === 1
      await new Promise((res) => setTimeout(res, 20))
    }
    assert.ok(sawPause, 'the host was paused')
    assert.ok(maxPending < limit * 5, `pending stayed bounded while paused (max ${maxPending} of ${total}, bound ${limit})`)
    console.log(`# ${v.name}: at most ${maxPending} of ${total} flooded events pending (bound ${limit})`)
    assert.ok(conn.socket.bufferedAmount > 0, 'backpressure reached the upstream (its send buffer fills)')
    assert.ok(r.pipeline.pendingForHost(3) >= limit, 'pendingForHost reports the pending events')
    // Deciding drains it: the host resumes and every frame arrives in the end.
    const decided = new Set<number>()
    const drainAll = (): void => {
      const ds: Decision[] = []
      for (const e of r.events) if (!decided.has(e.id)) {
        decided.add(e.id)
        ds.push({ id: e.id, action: 'drop', reason: 'test' })
      }
      r.pipeline.decide(ds)
    }
    await until(() => {
      drainAll()
      return r.events.length === total
    }, `all ${total} frames after resuming (got ${r.events.length})`, 60_000)
    drainAll()
    await until(() => r.pipeline.stats().pending === 0 && r.pipeline.stats().pausedHosts === 0, 'nothing pending, no host paused')
    assert.ok(r.pipeline.stats().pauses >= 1)
  }))
}
