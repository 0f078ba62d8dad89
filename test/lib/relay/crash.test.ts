// kill -9 of the real `ringlay serve` under load. A fake PDS streams valid signed commits
// (@atproto/repo, identities in the fake PLC) continuously; the relay is SIGKILLed at random
// moments and restarted on the same data dir each time; a consumer follows it across restarts
// with ?cursor=<last seq it got>. Afterwards, read back with cursor 0:
//   - no seq repeats (the log is strictly increasing);
//   - every frame any consumer received is in the log with the same bytes;
//   - the follower saw every logged seq exactly once (no gap, no duplicate across restarts);
//   - every upstream commit is there exactly once: the relay resumes through the upstream
//     cursor after a restart (so it must dial with ?cursor=), and what it gets twice is
//     dropped (stale rev).
// Frames held for "the next subscriber" are off on this fake PDS, so only the relay's
// upstream cursor can recover what arrived while it was down.
//   RINGLAY_CRASH_KILLS=100   longer run (default 10 kills, about a minute)
//   RINGLAY_CRASH_IO=uws      another transport (default: the relay's default)
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { FakeAccount, FakePds } from '../../helpers/fake-pds.js'
import { FakePlc } from '../../helpers/fake-plc.js'
import { FirehoseConsumer, type ReceivedFrame } from '../../helpers/firehose-consumer.js'
import { RelayProcess, type IoMode } from '../../helpers/relay-process.js'

const kills = Number(process.env.RINGLAY_CRASH_KILLS ?? 10)
const io = process.env.RINGLAY_CRASH_IO as IoMode | undefined
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
const between = (lo: number, hi: number): number => lo + Math.floor(Math.random() * (hi - lo))

test(`kill -9 at ${kills} random moments under load: no seq reused, no frame changed, no upstream event lost or doubled`, async () => {
  const plc = await FakePlc.start()
  const pds = await FakePds.start({ holdUntilConnected: false })
  const accounts = await Promise.all(Array.from({ length: 16 }, () => FakeAccount.create()))
  plc.set(...accounts.map((a) => a.identity(pds.url)))
  let relay = await RelayProcess.start({ plcHost: plc.url, io })
  const followers: FirehoseConsumer[] = []
  let producing = true
  const published: { seq: number; did: string; rev: string }[] = []
  let producer: Promise<void> = Promise.resolve()
  // Starts once the relay has dialled (a new host starts live: earlier events are not its).
  const produce = async (): Promise<void> => {
    for (let i = 0; producing; i++) {
      published.push(await pds.publishCommit(accounts[i % accounts.length]))
      await sleep(8)
    }
  }
  const lastFollowedSeq = (): number | undefined => {
    for (let i = followers.length - 1; i >= 0; i--) if (followers[i].lastSeq !== undefined) return followers[i].lastSeq
    return undefined
  }
  const follow = async (): Promise<void> => {
    followers.push(await FirehoseConsumer.connect({ port: relay.port, cursor: lastFollowedSeq() }))
  }
  const rounds: string[] = []
  try {
    await follow()
    await relay.subscribe(pds.hostname)
    await pds.waitForSubscriber()
    producer = produce()
    for (let k = 0; k < kills; k++) {
      const runMs = between(700, 4000)
      await sleep(runMs)
      await relay.kill()
      await sleep(between(0, 300))
      const resubscribed = pds.nextSubscriber(20_000)
      resubscribed.catch(() => {}) // awaited below; the restart may fail first
      relay = await relay.restart()
      await follow()
      const conn = await resubscribed.catch((err: Error) => {
        throw new Error(`after kill ${k + 1} the relay did not dial its host again: ${err.message}\n${relay.tail()}`)
      })
      rounds.push(`kill ${k + 1} after ${runMs} ms: upstream resumed at cursor ${String(conn.cursor)} (PDS head ${pds.headSeq}); follower at ${String(lastFollowedSeq())}`)
      assert.notEqual(conn.cursor, undefined, `after kill ${k + 1} the relay resumes its host with ?cursor= (it dialled live, losing what was published meanwhile)\n${rounds.join('\n')}`)
    }
    producing = false
    await producer

    // The last relay catches up with everything the PDS published.
    const want = new Set(published.map((p) => `${p.did} ${p.rev}`))
    const follower = followers[followers.length - 1]
    const commitKey = (f: ReceivedFrame): string => `${String(f.body.repo)} ${String(f.body.rev)}`
    const seen = new Set<string>()
    for (const f of followers.flatMap((c) => c.events)) seen.add(commitKey(f))
    // Until everything is through, or nothing new came for 10 s (the assertions below then
    // name what is missing).
    let read = 0
    let lastSize = -1
    let lastChange = Date.now()
    const deadline = Date.now() + 60_000
    while (Date.now() < deadline && Date.now() - lastChange < 10_000) {
      for (; read < follower.events.length; read++) seen.add(commitKey(follower.events[read]))
      if (seen.size >= want.size) break
      if (seen.size !== lastSize) {
        lastSize = seen.size
        lastChange = Date.now()
      }
      await sleep(200)
    }
    const log = await FirehoseConsumer.connect({ port: relay.port, cursor: 0 })
    await log.waitForSeq(follower.lastSeq ?? 0, 30_000)
    await sleep(300)
    log.close()

    console.log(`# ${kills} kills, ${want.size} upstream commits, ${log.events.length} relay events, ${pds.connections.length} upstream connections`)
    for (const r of rounds) console.log(`# ${r}`)
    const logSeqs = log.seqs
    for (let i = 1; i < logSeqs.length; i++) assert.ok(logSeqs[i] > logSeqs[i - 1], `log seqs strictly increase: ${logSeqs[i - 1]} then ${logSeqs[i]}`)
    const bySeq = new Map(log.events.map((f) => [f.seq as number, f.bytes]))
    const followed = followers.flatMap((c) => c.events)
    for (const f of followed) {
      const logged = bySeq.get(f.seq as number)
      assert.ok(logged !== undefined, `seq ${String(f.seq)}, which a consumer received, is in the log`)
      assert.ok(logged.equals(f.bytes), `seq ${String(f.seq)}: the log holds the bytes a consumer received`)
    }
    const followedSeqs = followed.map((f) => f.seq as number)
    const backwards = followedSeqs.filter((q, i) => i > 0 && q <= followedSeqs[i - 1]).slice(0, 10)
    const followedSet = new Set(followedSeqs)
    const gaps = logSeqs.filter((q) => !followedSet.has(q))
    const around = (q: number): string => followers.map((c, i) => `consumer ${i} (cursor ${String(c.cursor)}): ${String(c.seqs[0])}..${String(c.lastSeq)}`).join('; ') + ` [at ${q}]`
    assert.deepEqual(backwards, [], `the follower never got a seq twice or out of order across restarts${backwards.length ? `: ${around(backwards[0])}` : ''}`)
    assert.deepEqual(gaps.slice(0, 20), [], `the follower got every logged seq (${gaps.length} missed)${gaps.length ? `: ${around(gaps[0])}` : ''}`)
    // upstream commit (did rev) → the relay seqs it was logged at
    const logged = new Map<string, number[]>()
    for (const f of log.events) {
      assert.equal(f.header.t, '#commit', `only commits were published (got ${f.header.t})`)
      logged.set(commitKey(f), [...(logged.get(commitKey(f)) ?? []), f.seq as number])
    }
    const upstreamSeq = new Map(published.map((p) => [`${p.did} ${p.rev}`, p.seq]))
    const missing = [...want].filter((k) => !logged.has(k)).map((k) => `${k} (upstream seq ${String(upstreamSeq.get(k))})`)
    const doubled = [...logged].filter(([, seqs]) => seqs.length > 1).map(([k, seqs]) => `${k} (upstream seq ${String(upstreamSeq.get(k))}) at relay seqs ${seqs.join(', ')}`)
    const unknown = [...logged.keys()].filter((k) => !want.has(k))
    assert.deepEqual(missing, [], `every upstream commit is in the log (${missing.length} of ${want.size} missing)`)
    assert.deepEqual(doubled, [], 'no upstream commit is in the log twice')
    assert.deepEqual(unknown, [], 'nothing in the log that the PDS did not publish')
  } finally {
    producing = false
    await producer.catch(() => {})
    for (const c of followers) c.close()
    await relay.dispose()
    await pds.close()
    await plc.close()
  }
})
