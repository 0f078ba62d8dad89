// Cursor replay on the real `ringlay serve` (protocol.md §1.6): a fake PDS streams valid
// signed commits (@atproto/repo, identities in the fake PLC), a consumer connected from the
// start records everything live, and consumers with a cursor must get exactly:
//   cursor 0           the whole window, then live;
//   a middle cursor N  seq > N, then live, with no gap and no duplicate at the hand-off
//                      (more events are published while they replay);
//   head + 1 or more   a FutureCursor error frame, then the close (head itself is valid);
//   older than the window (--replay-window 2s, then wait)
//                      #info OutdatedCursor first, then everything from the oldest kept;
//   from before a restart  everything after it, frames of the previous process included.
// Replay must return the very bytes the live consumer got.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { FakeAccount, FakePds } from '../../helpers/fake-pds.js'
import { FakePlc } from '../../helpers/fake-plc.js'
import { FirehoseConsumer } from '../../helpers/firehose-consumer.js'
import { RelayProcess, type IoMode } from '../../helpers/relay-process.js'

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

interface Upstream {
  pds: FakePds
  accounts: FakeAccount[]
  published: number
}

async function upstream(plc: FakePlc, accountCount: number): Promise<Upstream> {
  const pds = await FakePds.start()
  const accounts = await Promise.all(Array.from({ length: accountCount }, () => FakeAccount.create()))
  plc.set(...accounts.map((a) => a.identity(pds.url)))
  return { pds, accounts, published: 0 }
}

async function publish(up: Upstream, count: number, gapMs = 0): Promise<void> {
  for (let i = 0; i < count; i++) {
    await up.pds.publishCommit(up.accounts[up.published++ % up.accounts.length])
    if (gapMs > 0) await sleep(gapMs)
  }
}

// `c` got exactly the live consumer's frames with seq > afterSeq (same seqs, same bytes).
function assertSameStream(c: FirehoseConsumer, live: FirehoseConsumer, afterSeq: number, what: string): void {
  const want = live.events.filter((f) => (f.seq as number) > afterSeq)
  assert.deepEqual(c.seqs, want.map((f) => f.seq), `${what}: seqs (${c.summary()})`)
  c.events.forEach((f, i) => assert.ok(f.bytes.equals(want[i].bytes), `${what}: bytes of seq ${String(f.seq)} equal the live frame`))
  assert.deepEqual(c.errors, [], `${what}: no error frame`)
  assert.deepEqual(c.undecodable, [], `${what}: only DAG-CBOR frames`)
}

const variants: { name: string; io: IoMode | undefined }[] = [
  { name: 'default transport', io: undefined },
  { name: '--io uws', io: 'uws' },
]

for (const v of variants) {
  describe(`cursor replay (${v.name})`, () => {
    let plc: FakePlc
    let up: Upstream
    let relay: RelayProcess
    let live: FirehoseConsumer
    const consumers: FirehoseConsumer[] = []
    const connect = async (cursor?: number): Promise<FirehoseConsumer> => {
      const c = await FirehoseConsumer.connect({ port: relay.port, cursor })
      consumers.push(c)
      return c
    }
    // Waits until `c` is level with the live consumer's newest event.
    const caughtUp = (c: FirehoseConsumer, what: string): Promise<void> =>
      c.waitFor((x) => (x.lastSeq ?? 0) >= (live.lastSeq as number), `${what} to reach seq ${String(live.lastSeq)}`)

    before(async () => {
      plc = await FakePlc.start()
      up = await upstream(plc, 4)
      relay = await RelayProcess.start({ plcHost: plc.url, io: v.io })
      live = await connect()
      await relay.subscribe(up.pds.hostname)
      await up.pds.waitForSubscriber()
      await publish(up, 40)
      try {
        await live.waitForEvents(40, 30_000)
      } catch (err) {
        throw new Error(`${(err as Error).message}\n${relay.tail()}`)
      }
    })

    after(async () => {
      for (const c of consumers) c.close()
      await relay?.dispose()
      await up?.pds.close()
      await plc?.close()
    })

    test('cursor 0 replays the whole window, then continues live', async () => {
      const c = await connect(0)
      await caughtUp(c, 'the cursor-0 consumer')
      await publish(up, 3)
      await live.waitForEvents(up.published)
      await caughtUp(c, 'the cursor-0 consumer, live')
      assert.deepEqual(c.infos, [], 'no #info: cursor 0 is the whole window, not an outdated cursor')
      assertSameStream(c, live, 0, 'cursor 0')
    })

    test('middle cursors and the head get exactly seq > N, then live, with no gap or duplicate at the hand-off', async () => {
      // Consumers join at different middle cursors while the PDS keeps publishing, so their
      // replay-to-live switch happens with events arriving.
      // Half of them ask for the newest seq they could know of (the live consumer's), where the
      // switch to live happens at once, while the next frame may be in flight.
      const publishing = publish(up, 80, 3)
      const joined: { c: FirehoseConsumer; cursor: number }[] = []
      for (let i = 0; i < 16; i++) {
        const seqs = live.seqs
        const cursor = i % 2 === 0 ? seqs[Math.floor((seqs.length * (i + 1)) / 20)] : seqs[seqs.length - 1]
        joined.push({ c: await connect(cursor), cursor })
        await sleep(15)
      }
      await publishing
      await live.waitForEvents(up.published)
      for (const { c, cursor } of joined) {
        await caughtUp(c, `the consumer at cursor ${cursor}`)
        await sleep(100) // a duplicate at the tail would arrive now
        assert.deepEqual(c.infos, [], `cursor ${cursor}: no #info`)
        assertSameStream(c, live, cursor, `cursor ${cursor}`)
      }
    })

    test('a cursor ahead of the head gets FutureCursor, then the close; the head itself is valid', async () => {
      const head = live.lastSeq as number
      for (const cursor of [head + 1, head + 1000]) {
        const c = await connect(cursor)
        const info = await c.waitForClose()
        assert.equal(c.frames.length, 1, `cursor ${cursor} (head ${head}): one frame, the error (${c.summary()})`)
        assert.equal(c.frames[0].header.op, -1, 'an error frame (op -1)')
        assert.equal(c.frames[0].body.error, 'FutureCursor')
        assert.notEqual(info.code, 1006, 'closed with a close frame')
      }
      const atHead = await connect(head)
      await sleep(300)
      assert.equal(atHead.closed, false, `cursor = head stays open (${atHead.summary()})`)
      assert.equal(atHead.frames.length, 0, 'and has nothing to replay')
      await publish(up, 2)
      await live.waitForEvents(up.published)
      await caughtUp(atHead, 'the consumer at the head')
      assertSameStream(atHead, live, head, 'cursor = head')
    })
  })
}

// The log outlives the process: a cursor from before a restart (graceful or kill -9) gets
// every frame after it, the ones written by the previous process included.
for (const how of ['stop', 'kill -9'] as const) {
  test(`a cursor from before a restart (${how}) gets everything after it, across the restart`, async () => {
    const plc = await FakePlc.start()
    const up = await upstream(plc, 3)
    let relay = await RelayProcess.start({ plcHost: plc.url })
    const consumers: FirehoseConsumer[] = []
    try {
      const before = await FirehoseConsumer.connect({ port: relay.port })
      consumers.push(before)
      await relay.subscribe(up.pds.hostname)
      await up.pds.waitForSubscriber()
      await publish(up, 20)
      await before.waitForEvents(20, 30_000)
      await (how === 'stop' ? relay.stop() : relay.kill())
      const resubscribed = up.pds.nextSubscriber()
      relay = await relay.restart()
      await resubscribed
      const lastBefore = before.lastSeq as number
      const cursors = [0, 5, lastBefore - 3, lastBefore - 1, lastBefore]
      // Some join before the new process has written anything, some after.
      const early = await Promise.all(cursors.map((cursor) => FirehoseConsumer.connect({ port: relay.port, cursor })))
      const after = await FirehoseConsumer.connect({ port: relay.port })
      consumers.push(...early, after)
      await sleep(200)
      await publish(up, 10)
      await after.waitForEvents(10, 30_000)
      const frames = new Map([...before.events, ...after.events].map((f) => [f.seq as number, f.bytes]))
      const all = [...frames.keys()]
      const head = all[all.length - 1]
      const late = await Promise.all([...cursors, head - 2].map((cursor) => FirehoseConsumer.connect({ port: relay.port, cursor })))
      consumers.push(...late)
      for (const [when, c] of [...early.map((c) => ['before new writes', c] as const), ...late.map((c) => ['after new writes', c] as const)]) {
        const cursor = c.cursor as number
        await c.waitForSeq(head, 10_000).catch(() => {})
        await sleep(100)
        assert.deepEqual(c.seqs, all.filter((q) => q > cursor), `cursor ${cursor}, joined ${when} (${lastBefore} was the last seq before the restart): ${c.summary()}`)
        c.events.forEach((f) => assert.ok(f.bytes.equals(frames.get(f.seq as number) as Buffer), `cursor ${cursor}: seq ${String(f.seq)} has the bytes first sent`))
      }
    } finally {
      for (const c of consumers) c.close()
      await relay.dispose()
      await up.pds.close()
      await plc.close()
    }
  })
}

describe('a cursor older than the replay window (default transport)', () => {
  let plc: FakePlc
  let up: Upstream
  let relay: RelayProcess
  const consumers: FirehoseConsumer[] = []

  after(async () => {
    for (const c of consumers) c.close()
    await relay?.dispose()
    await up?.pds.close()
    await plc?.close()
  })

  test('#info OutdatedCursor first, then the whole window from the oldest kept event', async () => {
    const windowMs = 2000
    plc = await FakePlc.start()
    up = await upstream(plc, 3)
    relay = await RelayProcess.start({ plcHost: plc.url, replayWindow: '2s' })
    const live = await FirehoseConsumer.connect({ port: relay.port })
    consumers.push(live)
    await relay.subscribe(up.pds.hostname)
    await up.pds.waitForSubscriber()
    await publish(up, 10)
    await live.waitForEvents(10, 30_000)
    const cursor = live.seqs[0] // frames after it (the rest of this batch) will age out
    await sleep(windowMs + 500)
    await publish(up, 10)
    await live.waitForEvents(20)

    // Retention runs on its own schedule: ask again (and keep appending) until the frames
    // right after the cursor are gone, for at most 30 s.
    let outdated: FirehoseConsumer | undefined
    const deadline = Date.now() + 30_000
    while (outdated === undefined && Date.now() < deadline) {
      const c = await FirehoseConsumer.connect({ port: relay.port, cursor })
      consumers.push(c)
      await c.waitFor((x) => x.frames.length > 0, 'a first frame', 5_000).catch(() => {})
      if (c.frames[0]?.header.t === '#info') outdated = c
      else {
        c.close()
        await publish(up, 1)
        await sleep(1000)
      }
    }
    assert.ok(
      outdated !== undefined,
      `cursor ${cursor} never got #info OutdatedCursor although its successors are older than --replay-window 2s (waited 30 s)\n${relay.tail(10)}`,
    )
    await live.waitForEvents(up.published)
    const whole = await FirehoseConsumer.connect({ port: relay.port, cursor: 0 })
    consumers.push(whole)
    const head = live.lastSeq as number
    await whole.waitForSeq(head)
    await outdated.waitForSeq(head)
    assert.equal(outdated.frames[0].body.name, 'OutdatedCursor', 'the #info is OutdatedCursor')
    assert.equal(outdated.infos.length, 1, 'one #info only')
    assert.ok(whole.events.length > 0 && (whole.seqs[0] as number) > cursor + 1, `frames after cursor ${cursor} were deleted (window starts at ${String(whole.seqs[0])})`)
    assert.deepEqual(outdated.seqs, whole.seqs, 'after the #info: the whole window, from the oldest kept event')
    outdated.events.forEach((f, i) => assert.ok(f.bytes.equals(whole.events[i].bytes), `seq ${String(f.seq)}: same bytes`))
    const lastBatch = live.seqs.slice(10)
    assert.ok(lastBatch.every((s) => outdated!.seqs.includes(s)), 'every event inside the window is replayed')
  })
})
