// End to end with real atproto software: @atproto/dev-env runs a PLC and a PDS on localhost;
// `ringlay serve` (default transport, and a second one on --io uws, both subscribed at the same
// time) resolves identities through that PLC and subscribes to the PDS via requestCrawl with
// `localhost:<port>`. The test creates accounts, creates/updates/deletes records (one commit
// with two ops), changes a handle, deactivates and reactivates an account. Then:
//   - a raw consumer of each relay got exactly the PDS's own firehose (read directly), each
//     account's events in the PDS's order: all fields equal but seq (semantic fields for a
//     re-emitted #account or #identity), relay seqs strictly increasing;
//   - the official @atproto/sync Firehose (signature verification on, IdResolver on the
//     dev-env PLC) connected to each relay got every commit op, identity, account and sync
//     event, in per-account order, and never called onError.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { TestNetworkNoAppView } from '@atproto/dev-env'
import { IdResolver } from '@atproto/identity'
import { Firehose, MemoryRunner, type Event } from '@atproto/sync'
import { comparableEvents } from '../../helpers/atproto-json.js'
import { FirehoseConsumer, type ReceivedFrame } from '../../helpers/firehose-consumer.js'
import { RelayProcess, type IoMode } from '../../helpers/relay-process.js'

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

// Waits until count() reaches target, or nothing new arrived for quietMs (then the assertions
// show what is missing), or maxMs passed.
async function settle(count: () => number, target: number, quietMs = 5_000, maxMs = 30_000): Promise<void> {
  const end = Date.now() + maxMs
  let last = count()
  let changed = Date.now()
  while (count() < target && Date.now() < end && Date.now() - changed < quietMs) {
    await sleep(100)
    if (count() !== last) {
      last = count()
      changed = Date.now()
    }
  }
  await sleep(300) // anything extra shows up now
}

interface Side {
  name: string
  io: IoMode | undefined
  relay?: RelayProcess
  raw?: FirehoseConsumer
  firehose?: Firehose
  events: Event[]
  errors: Error[]
}

const sides: Side[] = [
  { name: 'default transport', io: undefined, events: [], errors: [] },
  { name: '--io uws', io: 'uws', events: [], errors: [] },
]

const didOf = (f: ReceivedFrame): string => String(f.header.t === '#commit' ? f.body.repo : f.body.did)

// One line per thing the official consumer reports, from a raw frame (one per commit op) or
// from a Firehose event, so the two can be compared per account.
function expectedLines(f: ReceivedFrame): string[] {
  const b = f.body
  switch (f.header.t) {
    case '#commit':
      return (b.ops as { action: string; path: string; cid: unknown }[]).map((op) => `${op.action} ${op.path} ${op.cid === null ? '-' : String(op.cid)} ${String(b.rev)}`)
    case '#identity':
      return ['identity']
    case '#account':
      return [`account ${String(b.active)} ${String(b.status ?? '-')}`]
    case '#sync':
      return [`sync ${String(b.rev)}`]
    default:
      return [`unexpected ${String(f.header.t)}`]
  }
}

function lineOf(e: Event): string {
  switch (e.event) {
    case 'create':
    case 'update':
      return `${e.event} ${e.collection}/${e.rkey} ${e.cid.toString()} ${e.rev}`
    case 'delete':
      return `delete ${e.collection}/${e.rkey} - ${e.rev}`
    case 'identity':
      return 'identity'
    case 'account':
      return `account ${String(e.active)} ${e.status ?? '-'}`
    case 'sync':
      return `sync ${e.rev}`
  }
}

function byDid<T>(items: T[], did: (t: T) => string, lines: (t: T) => string[]): Map<string, string[]> {
  const out = new Map<string, string[]>()
  for (const it of items) {
    const d = did(it)
    out.set(d, [...(out.get(d) ?? []), ...lines(it)])
  }
  return out
}

describe('relay end to end with @atproto/dev-env and @atproto/sync', () => {
  let network: TestNetworkNoAppView
  let pdsRaw: FirehoseConsumer
  let warmDid = ''
  let expected: ReceivedFrame[] = []

  before(async () => {
    network = await TestNetworkNoAppView.create({ dbPostgresSchema: 'any' })
    const pdsPort = Number(new URL(network.pds.url).port)
    pdsRaw = await FirehoseConsumer.connect({ port: pdsPort, cursor: 0 })
    const client = network.pds.getClient()
    const auth = (jwt: string) => ({ headers: { authorization: `Bearer ${jwt}` }, encoding: 'application/json' as const })
    const account = async (handle: string) =>
      (await client.com.atproto.server.createAccount({ email: `${handle}@test.com`, handle, password: 'hunter2' })).data
    const post = (text: string) => ({ $type: 'app.bsky.feed.post', text, createdAt: new Date().toISOString() })

    for (const side of sides) {
      side.relay = await RelayProcess.start({ plcHost: network.plc.url, io: side.io })
      side.raw = await FirehoseConsumer.connect({ port: side.relay.port })
      await side.relay.subscribe(`localhost:${pdsPort}`)
    }
    // New hosts start live: the test's events count only once a warm-up account's events
    // come through every relay, and once every Firehose has seen one of its posts.
    const warm = await account('warmup.test')
    warmDid = warm.did
    for (const side of sides) {
      await side.raw!.waitFor((c) => c.events.some((f) => didOf(f) === warmDid), `the warm-up account through the relay (${side.name})`, 30_000).catch((err: Error) => {
        throw new Error(`${err.message}\n${side.relay!.tail()}`)
      })
      side.firehose = new Firehose({
        idResolver: new IdResolver({ plcUrl: network.plc.url }),
        service: side.relay!.wsUrl,
        runner: new MemoryRunner({}),
        handleEvent: (e) => {
          side.events.push(e)
        },
        onError: (err) => {
          side.errors.push(err)
        },
      })
      void side.firehose.start()
    }
    const deadline = Date.now() + 30_000
    while (sides.some((s) => !s.events.some((e) => e.did === warmDid))) {
      if (Date.now() > deadline) throw new Error(`a Firehose never saw the warm-up account: ${sides.map((s) => `${s.name} ${s.events.length} events, errors ${s.errors.join('; ')}`).join(', ')}`)
      await client.com.atproto.repo.createRecord({ repo: warmDid, collection: 'app.bsky.feed.post', record: post('warm-up') }, auth(warm.accessJwt))
      await sleep(500)
    }

    // What the test does; the PDS's own firehose says what that emitted.
    const alice = await account('alice.test')
    const bob = await account('bob.test')
    const a1 = await client.com.atproto.repo.createRecord({ repo: alice.did, collection: 'app.bsky.feed.post', record: post('hello') }, auth(alice.accessJwt))
    await client.com.atproto.repo.createRecord({ repo: bob.did, collection: 'app.bsky.feed.post', record: post('hi alice') }, auth(bob.accessJwt))
    const profile = (displayName: string) => ({ repo: alice.did, collection: 'app.bsky.actor.profile', rkey: 'self', record: { $type: 'app.bsky.actor.profile', displayName } })
    await client.com.atproto.repo.putRecord(profile('Alice'), auth(alice.accessJwt))
    await client.com.atproto.repo.putRecord(profile('Alice, again'), auth(alice.accessJwt))
    const like = { $type: 'app.bsky.feed.like', subject: { uri: a1.data.uri, cid: a1.data.cid }, createdAt: new Date().toISOString() }
    await client.com.atproto.repo.createRecord({ repo: bob.did, collection: 'app.bsky.feed.like', record: like }, auth(bob.accessJwt))
    await client.com.atproto.repo.deleteRecord({ repo: alice.did, collection: 'app.bsky.feed.post', rkey: a1.data.uri.split('/').pop() as string }, auth(alice.accessJwt))
    await client.com.atproto.identity.updateHandle({ handle: 'robert.test' }, auth(bob.accessJwt))
    await client.com.atproto.server.deactivateAccount({}, auth(bob.accessJwt))
    await client.com.atproto.server.activateAccount(undefined, { headers: { authorization: `Bearer ${bob.accessJwt}` } })
    await client.com.atproto.repo.createRecord({ repo: bob.did, collection: 'app.bsky.feed.post', record: post('back again') }, auth(bob.accessJwt))
    const create = (text: string) => ({ $type: 'com.atproto.repo.applyWrites#create' as const, collection: 'app.bsky.feed.post', value: post(text) })
    await client.com.atproto.repo.applyWrites({ repo: alice.did, writes: [create('one'), create('two')] }, auth(alice.accessJwt))
    const last = await client.com.atproto.repo.createRecord({ repo: alice.did, collection: 'app.bsky.feed.post', record: post('the end') }, auth(alice.accessJwt))
    const lastPath = last.data.uri.split('/').slice(-2).join('/')
    const hasLast = (f: ReceivedFrame): boolean => f.header.t === '#commit' && (f.body.ops as { path: string }[]).some((op) => op.path === lastPath)
    await pdsRaw.waitFor((c) => c.events.some(hasLast), 'the last commit on the PDS firehose')
    expected = pdsRaw.events.filter((f) => didOf(f) !== warmDid)
  })

  after(async () => {
    for (const side of sides) {
      await side.firehose?.destroy()
      side.raw?.close()
      await side.relay?.dispose()
    }
    pdsRaw?.close()
    await network?.close()
  })

  test('the PDS emitted what the test did (the reference the relays are compared with)', () => {
    const lines = expected.flatMap(expectedLines)
    const has = (re: RegExp, what: string): void => assert.ok(lines.some((l) => re.test(l)), `${what} in ${lines.join(' | ')}`)
    has(/^create app\.bsky\.feed\.post\//, 'a post created')
    has(/^create app\.bsky\.feed\.like\//, 'a like created')
    has(/^update app\.bsky\.actor\.profile\/self /, 'the profile updated')
    has(/^delete app\.bsky\.feed\.post\//, 'a post deleted')
    has(/^identity$/, 'an #identity')
    has(/^account false deactivated$/, 'a deactivation')
    has(/^account true -$/, 'an activation')
    has(/^sync /, 'a #sync')
    assert.ok(expected.some((f) => f.header.t === '#commit' && (f.body.ops as unknown[]).length === 2), 'a commit with two ops')
  })

  for (const side of sides) {
    test(`a raw consumer gets every PDS event, in per-account order, fields equal but seq (${side.name})`, async () => {
      const raw = side.raw as FirehoseConsumer
      const ours = (): ReceivedFrame[] => raw.events.filter((f) => didOf(f) !== warmDid)
      await settle(() => ours().length, expected.length)
      const got = ours()
      // Events of different accounts may be validated in parallel and come out interleaved
      // differently; one account's come out in the PDS's order.
      const group = (fs: ReceivedFrame[]): Map<string, ReceivedFrame[]> => {
        const m = new Map<string, ReceivedFrame[]>()
        for (const f of fs) m.set(didOf(f), [...(m.get(didOf(f)) ?? []), f])
        return m
      }
      const want = group(expected)
      const have = group(got)
      const kinds = (m: Map<string, ReceivedFrame[]>): Record<string, string[]> =>
        Object.fromEntries([...m].sort(([a], [b]) => a.localeCompare(b)).map(([did, fs]) => [did, fs.map((f) => `${String(f.header.t)} ${String(f.body.rev ?? f.body.status ?? f.body.handle ?? '')}`)]))
      assert.deepEqual(kinds(have), kinds(want), `every account's events in the PDS's order\n${side.relay!.tail(8)}`)
      for (const [did, ws] of want) {
        const hs = have.get(did) as ReceivedFrame[]
        hs.forEach((f, i) => {
          const [g, w] = comparableEvents(f.header.t, f.body, ws[i].body)
          assert.deepEqual(g, w, `${did} event ${i} (${String(f.header.t)}, PDS seq ${String(ws[i].seq)})`)
        })
      }
      const seqs = raw.seqs
      for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i] > seqs[i - 1], `relay seqs strictly increase (${seqs.join(',')})`)
      assert.deepEqual(raw.errors, [])
      assert.deepEqual(raw.undecodable, [])
    })

    test(`the official @atproto/sync Firehose verifies and receives every event, per-account order (${side.name})`, async () => {
      const want = byDid(expected, didOf, expectedLines)
      const total = [...want.values()].reduce((n, l) => n + l.length, 0)
      const ours = (): Event[] => side.events.filter((e) => e.did !== warmDid)
      await settle(() => (side.errors.length > 0 ? total : ours().length), total)
      assert.deepEqual(
        side.errors.map((e) => `${e.name}: ${e.message} ${String((e as { cause?: unknown }).cause ?? '')}`),
        [],
        'onError is never called',
      )
      const got = byDid(ours(), (e) => e.did, (e) => [lineOf(e)])
      const sorted = (m: Map<string, string[]>): Record<string, string[]> => Object.fromEntries([...m].sort(([a], [b]) => a.localeCompare(b)))
      assert.deepEqual(sorted(got), sorted(want), 'every commit op, identity, account and sync event, in order per account')
      const relaySeqs = new Set((side.raw as FirehoseConsumer).seqs)
      assert.ok(ours().every((e) => relaySeqs.has(e.seq)), 'Firehose events carry the relay seqs')
    })
  }
})
