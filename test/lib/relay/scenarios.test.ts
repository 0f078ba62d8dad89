// indigo's relay scenarios (../shared/atproto/indigo-scenarios), end to end through the real
// `ringlay serve`: a fake PDS (a real WebSocket server) emits each scenario's recorded frames,
// with their upstream seqs, to the relay subscribed to it through requestCrawl; the fake PLC
// serves the scenario identities with #atproto_pds pointing at the fake PDS (the fixtures
// name production hosts); a raw consumer reads the relay's firehose. Messages marked `drop`
// must not come out; the others must, in order, with identical fields apart from `seq`
// (a re-emitted #account/#identity may carry another `time`, so for those the semantic
// fields are compared). `lenient` maps to --lenient-sync-validation. Plus indigo's wrong-key
// case: post_lifecycle's commits with another key in the DID document are all dropped.
// Each case gets a fresh relay and data dir, on the default transport and on --io uws.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Secp256k1Keypair } from '@atproto/crypto'
import { comparableEvents, encodeFrame, frameFromJson, fromAtprotoJson, type FrameHeader } from '../../helpers/atproto-json.js'
import { FakePds } from '../../helpers/fake-pds.js'
import { FakePlc, identityFromScenario, type ScenarioAccount } from '../../helpers/fake-plc.js'
import { FirehoseConsumer, type ReceivedFrame } from '../../helpers/firehose-consumer.js'
import { RelayProcess, type IoMode } from '../../helpers/relay-process.js'
import { atprotoFixtures } from '../identity/shared-fixtures.js'

interface ScenarioMessage {
  frame: { header: FrameHeader; body: Record<string, unknown> }
  drop: boolean
  invalid?: boolean
  update?: boolean
}

interface Scenario {
  description?: string
  lenient: boolean
  accounts: ScenarioAccount[]
  messages: ScenarioMessage[]
}

const files = ['account_lifecycle', 'deactivation', 'legacy', 'post_lifecycle', 'post_lifecycle_legacy', 'rev_ordering', 'seq_ordering']
const fixtures = atprotoFixtures()
const skip = fixtures === undefined ? 'needs ../shared/atproto/indigo-scenarios' : false
const variants: { name: string; io: IoMode | undefined }[] = [
  { name: 'default transport', io: undefined },
  { name: '--io uws', io: 'uws' },
]

function load(name: string): Scenario {
  return JSON.parse(readFileSync(join(fixtures as string, 'indigo-scenarios', `${name}.json`), 'utf8')) as Scenario
}

function assertSameEvent(got: ReceivedFrame, want: ScenarioMessage, where: string): void {
  assert.deepEqual(got.header, want.frame.header, `${where}: header`)
  const [g, w] = comparableEvents(want.frame.header.t, got.body, fromAtprotoJson(want.frame.body) as Record<string, unknown>)
  assert.deepEqual(g, w, `${where}: body (all fields but seq; semantic fields of a re-emitted event)`)
}

interface RunResult {
  received: ReceivedFrame[]
  relay: RelayProcess
}

// Runs the scenario's frames through a fresh relay. `barrier` frames are published after
// the scenario's: they must come out, and since one DID's events are decided in order, once
// they are out every earlier frame of that DID has been decided.
async function run(s: Scenario, io: IoMode | undefined, opts: { wrongKey?: boolean } = {}, check: (r: RunResult) => void): Promise<void> {
  const plc = await FakePlc.start()
  const pds = await FakePds.start()
  let relay: RelayProcess | undefined
  let consumer: FirehoseConsumer | undefined
  try {
    plc.set(...s.accounts.map((a) => identityFromScenario(a, pds.url)))
    if (opts.wrongKey === true) {
      for (const a of s.accounts) {
        const other = await Secp256k1Keypair.create()
        plc.setKey(a.identity.did, { type: 'Multikey', publicKeyMultibase: other.did().slice('did:key:'.length) })
      }
    }
    relay = await RelayProcess.start({ plcHost: plc.url, lenient: s.lenient, io })
    consumer = await FirehoseConsumer.connect({ port: relay.port })
    await relay.subscribe(pds.hostname)
    await pds.waitForSubscriber()
    pds.publish(s.messages.map((m) => frameFromJson(m.frame)))
    let expected = s.messages.filter((m) => !m.drop).length
    if (opts.wrongKey === true) {
      // Barrier: an #identity for the same DID (no signature involved) after the commits.
      const last = s.messages[s.messages.length - 1].frame.body
      const did = s.accounts[0].identity.did
      pds.publish(encodeFrame({ op: 1, t: '#identity' }, { did, seq: (last.seq as number) + 1, time: new Date().toISOString() }))
      expected = 1
    }
    try {
      await consumer.waitForEvents(expected, 20_000)
    } catch (err) {
      throw new Error(`${(err as Error).message}\nfake PDS requests: ${pds.requests.join(', ')}\n${relay.tail()}`)
    }
    // Anything that should have been dropped but trails behind shows up now.
    await new Promise((r) => setTimeout(r, 500))
    assert.deepEqual(consumer.undecodable, [], 'every message is a DAG-CBOR frame')
    assert.deepEqual(consumer.errors, [], 'no error frames')
    const seqs = consumer.seqs
    for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i] > seqs[i - 1], `relay seqs increase: ${seqs.join(', ')}`)
    assert.ok(seqs.every((q) => Number.isSafeInteger(q) && q > 0), 'relay seqs are positive integers')
    check({ received: consumer.events, relay })
  } finally {
    consumer?.close()
    await relay?.dispose()
    await pds.close()
    await plc.close()
  }
}

for (const v of variants) {
  for (const name of files) {
    test(`${name} (${v.name})`, { skip }, async () => {
      const s = load(name)
      const want = s.messages.filter((m) => !m.drop)
      await run(s, v.io, {}, ({ received, relay }) => {
        const types = (fs: { header: FrameHeader }[]): string => fs.map((f) => f.header.t).join(' ')
        assert.equal(
          received.length,
          want.length,
          `${want.length} of ${s.messages.length} messages come out (got ${types(received)}; want ${types(want.map((m) => m.frame))})\n${relay.tail(15)}`,
        )
        want.forEach((m, i) => assertSameEvent(received[i], m, `${name} message ${s.messages.indexOf(m)} (${m.frame.header.t}, upstream seq ${String(m.frame.body.seq)})`))
      })
    })
  }

  test(`post_lifecycle with the wrong key in the DID document: every commit dropped (${v.name})`, { skip }, async () => {
    const s = load('post_lifecycle')
    await run(s, v.io, { wrongKey: true }, ({ received, relay }) => {
      const commits = received.filter((f) => f.header.t === '#commit')
      assert.equal(commits.length, 0, `no commit signed by another key comes out (got ${commits.length})\n${relay.tail(15)}`)
      assert.deepEqual(
        received.map((f) => f.header.t),
        ['#identity'],
        'only the barrier #identity comes out',
      )
    })
  })
}
