// Every decision rule of the policy layer (lib/relay/rules.ts, lib/relay/policy.ts) over
// synthetic summaries, with real SQLite state and the real resolver against a fake PLC.
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { setLogSink } from '../../../lib/logger.js'
import { commit, counter, did, harness, keyA, keyB, rev, summary, until } from './policy-harness.js'
import type { Harness } from './policy-harness.js'

setLogSink(() => {})
const open: Harness[] = []
after(async () => {
  for (const h of open) await h.close()
})

async function setup(opts = {}, deps: Parameters<typeof harness>[1] = {}): Promise<Harness> {
  const h = await harness(opts, deps)
  open.push(h)
  return h
}

// Runs one batch and waits until every event in it has a final decision (held events resolve
// their identity over HTTP first).
async function decideAll(h: Harness, events: ReturnType<typeof commit>[]): Promise<void> {
  h.run(events)
  await until(() => events.every((e) => h.pipeline.decisionFor(e.id) !== undefined), 'decisions')
}

function reason(h: Harness, id: number): string {
  const d = h.pipeline.decisionFor(id)
  if (d === undefined) return 'undecided'
  return d.action === 'drop' ? `drop:${d.reason}` : d.action
}

// A known account with state: created by its first commit (rev 1).
async function known(h: Harness, i: number, host: 'A' | 'B' = 'A'): Promise<string> {
  const d = did(i)
  h.plc.set(h.identity(d, host))
  const first = commit(host === 'A' ? h.hostA : h.hostB, d, 1)
  h.run([first])
  await until(() => h.pipeline.decisionFor(first.id) !== undefined, 'first commit')
  assert.equal(reason(h, first.id), 'accept')
  return d
}

test('the first commit of a DID whose document names this host creates the account and stores its state', async () => {
  const h = await setup()
  const d = await known(h, 1)
  const a = h.state.accounts.get(d)
  assert.equal(a?.hostId, h.hostA)
  assert.equal(a?.rev, rev(1))
  assert.equal(a?.dataCid, 'bafydata1')
  assert.equal(a?.commitCid, 'bafycommit1')
  assert.equal(h.state.hosts.get(h.hostA)?.accountCount, 1)
  assert.equal(await counter(h.metrics, 'relay_events_accepted_total', { type: 'commit' }), 1)
  assert.equal(await counter(h.metrics, 'relay_accounts_created_total', { status: 'active' }), 1)
})

test('an unknown DID whose document names another host is dropped (wrong_host) and not created', async () => {
  const h = await setup()
  const d = did(2)
  h.plc.set(h.identity(d, 'B'))
  const e = commit(h.hostA, d, 1)
  await decideAll(h, [e])
  assert.equal(reason(h, e.id), 'drop:wrong_host')
  assert.equal(h.state.accounts.get(d), undefined)
  assert.equal(await counter(h.metrics, 'relay_events_dropped_total', { reason: 'wrong_host' }), 1)
})

test('final identity failures drop with a named reason (not found, no PDS)', async () => {
  const h = await setup()
  const missing = commit(h.hostA, did(3), 1)
  await decideAll(h, [missing])
  assert.equal(reason(h, missing.id), 'drop:identity_not_found')
  // A document without #atproto_pds.
  const d = did(4)
  h.plc.set({ ...h.identity(d, 'A'), pdsEndpoint: 'not a url' })
  const e = commit(h.hostA, d, 1)
  await decideAll(h, [e])
  assert.equal(reason(h, e.id), 'drop:identity_no_pds')
  // The native cache learns "no usable key" so workers stop reporting no_key for it.
  assert.ok(h.pipeline.setKeysCalls.flat().some((k) => k.did === d && k.key === null))
})

test('stale rev: a commit with rev equal to or below the stored rev is dropped; a #sync below it too', async () => {
  const h = await setup()
  const d = await known(h, 5)
  const same = commit(h.hostA, d, 1)
  const older = commit(h.hostA, d, 0, { since: null })
  const olderSync = summary({ type: 'sync', hostId: h.hostA, did: d, rev: rev(0), commitCid: 'bafyc', dataCid: 'bafyd' })
  h.run([same, older, olderSync])
  assert.deepEqual([same, older, olderSync].map((e) => reason(h, e.id)), ['drop:stale_rev', 'drop:stale_rev', 'drop:stale_rev'])
  assert.equal(h.state.accounts.get(d)?.rev, rev(1))
  // A #sync naming the current rev passes (PDSes send one after the commit that creates or
  // reactivates an account).
  const sameSync = summary({ type: 'sync', hostId: h.hostA, did: d, rev: rev(1), commitCid: 'bafycommit1', dataCid: 'bafydata1' })
  h.run([sameSync])
  assert.equal(reason(h, sameSync.id), 'accept')
})

test('native verdicts (size, CAR, commit, future rev, inversion) drop with their own name', async () => {
  const h = await setup()
  const d = await known(h, 6)
  const es = ['blocks_too_large', 'bad_car', 'bad_commit_version', 'future_rev', 'inversion_mismatch', 'missing_block'].map((verdict, i) =>
    commit(h.hostA, d, 2 + i, { verdict }),
  )
  h.run(es)
  assert.deepEqual(
    es.map((e) => reason(h, e.id)),
    ['drop:blocks_too_large', 'drop:bad_car', 'drop:bad_commit_version', 'drop:future_rev', 'drop:inversion_mismatch', 'drop:missing_block'],
  )
  assert.equal(h.state.accounts.get(d)?.rev, rev(1), 'state unchanged')
  // The stored state still decides: a stale event is stale_rev whatever native said.
  const stale = commit(h.hostA, d, 1, { verdict: 'bad_car' })
  h.run([stale])
  assert.equal(reason(h, stale.id), 'drop:stale_rev')
})

test('strict: a commit without prevData is dropped once the account has state; a first commit is exempt; lenient accepts', async () => {
  const h = await setup()
  const d = did(7)
  h.plc.set(h.identity(d, 'A'))
  const first = commit(h.hostA, d, 1, { prevData: undefined })
  await decideAll(h, [first])
  assert.equal(reason(h, first.id), 'accept')
  const legacy = commit(h.hostA, d, 2, { prevData: undefined })
  h.run([legacy])
  assert.equal(reason(h, legacy.id), 'drop:missing_prev_data')

  const lenient = await setup({ lenient: true })
  const d2 = did(8)
  lenient.plc.set(lenient.identity(d2, 'A'))
  const a = commit(lenient.hostA, d2, 1, { prevData: undefined })
  await decideAll(lenient, [a])
  const b = commit(lenient.hostA, d2, 2, { prevData: undefined })
  lenient.run([b])
  assert.equal(reason(lenient, b.id), 'accept')
  assert.equal(lenient.state.accounts.get(d2)?.rev, rev(2))
})

test('a chain break passes, updates state, is counted and marks the account desynchronized until a consistent commit', async () => {
  const h = await setup()
  const d = await known(h, 9)
  // since skips rev 2: a discontinuity, not an invalid commit.
  const broken = commit(h.hostA, d, 3)
  h.run([broken])
  assert.equal(reason(h, broken.id), 'accept')
  let a = h.state.accounts.get(d)
  assert.equal(a?.rev, rev(3))
  assert.notEqual(a?.desynchronizedSince, null)
  assert.equal(a?.chainBreaks, 1)
  assert.equal(await counter(h.metrics, 'relay_chain_breaks_total'), 1)
  // prevData that does not match the stored data CID is a break too.
  const badPrev = commit(h.hostA, d, 4, { prevData: 'bafyother' })
  h.run([badPrev])
  assert.equal(reason(h, badPrev.id), 'accept')
  assert.equal(h.state.accounts.get(d)?.chainBreaks, 2)
  const good = commit(h.hostA, d, 5)
  h.run([good])
  a = h.state.accounts.get(d)
  assert.equal(a?.desynchronizedSince, null, 'a consistent commit clears desynchronized')
  assert.equal(await counter(h.metrics, 'relay_chain_breaks_total'), 2)
})

test('#sync is verified natively, rev-ordered, stores its state and clears desynchronized', async () => {
  const h = await setup()
  const d = await known(h, 10)
  h.run([commit(h.hostA, d, 3)])
  assert.notEqual(h.state.accounts.get(d)?.desynchronizedSince, null)
  const bad = summary({ type: 'sync', hostId: h.hostA, did: d, rev: rev(9), commitCid: 'bafyc9', dataCid: 'bafyd9', verdict: 'commit_did_mismatch' })
  const sync = summary({ type: 'sync', hostId: h.hostA, did: d, rev: rev(9), commitCid: 'bafyc9', dataCid: 'bafyd9' })
  const older = summary({ type: 'sync', hostId: h.hostA, did: d, rev: rev(8), commitCid: 'bafyc8', dataCid: 'bafyd8' })
  h.run([bad, sync, older])
  assert.deepEqual([bad, sync, older].map((e) => reason(h, e.id)), ['drop:commit_did_mismatch', 'accept', 'drop:stale_rev'])
  const a = h.state.accounts.get(d)
  assert.deepEqual([a?.rev, a?.commitCid, a?.dataCid, a?.desynchronizedSince], [rev(9), 'bafyc9', 'bafyd9', null])
  // The next commit follows the #sync's state.
  const next = commit(h.hostA, d, 10, { prevData: 'bafyd9' })
  h.run([next])
  assert.equal(reason(h, next.id), 'accept')
  assert.equal(h.state.accounts.get(d)?.chainBreaks, 1)
})

test('#account from the account host updates the upstream status and is re-emitted with the combined status', async () => {
  const h = await setup()
  const d = await known(h, 11)
  const deact = summary({ type: 'account', hostId: h.hostA, did: d, active: false, status: 'deactivated', time: '2025-02-02T00:00:00.000Z' })
  h.run([deact])
  assert.deepEqual(h.pipeline.decisionFor(deact.id), {
    id: deact.id, action: 'replace', frame: { type: 'account', did: d, active: false, status: 'deactivated', time: '2025-02-02T00:00:00.000Z' },
  })
  // Inactive: commits are dropped.
  const c = commit(h.hostA, d, 2)
  h.run([c])
  assert.equal(reason(h, c.id), 'drop:inactive_account')
  const react = summary({ type: 'account', hostId: h.hostA, did: d, active: true })
  h.run([react])
  const r = h.pipeline.decisionFor(react.id)
  assert.ok(r?.action === 'replace' && r.frame.type === 'account' && r.frame.active === true && !('status' in r.frame))
  const c2 = commit(h.hostA, d, 2)
  h.run([c2])
  assert.equal(reason(h, c2.id), 'accept')
  // A local takedown wins over an active upstream.
  h.state.accounts.setLocalStatus(d, 'takendown')
  const again = summary({ type: 'account', hostId: h.hostA, did: d, active: true })
  h.run([again])
  const t = h.pipeline.decisionFor(again.id)
  assert.ok(t?.action === 'replace' && t.frame.type === 'account')
  assert.deepEqual([t.frame.active, t.frame.type === 'account' ? t.frame.status : ''], [false, 'takendown'])
  assert.equal(await counter(h.metrics, 'relay_events_accepted_total', { type: 'account' }), 3)
})

test('#account (and #commit) from a host that is not the account\'s is dropped as wrong_host after one re-resolve', async () => {
  const h = await setup({ authorityRecheckMs: 60_000 })
  const d = await known(h, 12)
  const fetchesBefore = h.plc.fetches(d)
  const acct = summary({ type: 'account', hostId: h.hostB, did: d, active: false, status: 'deactivated' })
  await decideAll(h, [acct])
  assert.equal(reason(h, acct.id), 'drop:wrong_host')
  assert.equal(h.plc.fetches(d), fetchesBefore + 1, 'purged and fetched once')
  // Within the recheck window the fresh answer settles it without another fetch.
  const c = commit(h.hostB, d, 2)
  h.run([c])
  assert.equal(reason(h, c.id), 'drop:wrong_host')
  assert.equal(h.plc.fetches(d), fetchesBefore + 1)
  assert.equal(h.state.accounts.get(d)?.hostId, h.hostA)
  assert.equal(h.state.accounts.get(d)?.upstreamStatus, 'active')
})

test('migration: when the DID document now names the new host, the account moves and counts follow', async () => {
  const h = await setup()
  const d = await known(h, 13)
  h.plc.set(h.identity(d, 'B'))
  const c = commit(h.hostB, d, 2)
  await decideAll(h, [c])
  assert.equal(reason(h, c.id), 'accept')
  assert.equal(h.state.accounts.get(d)?.hostId, h.hostB)
  assert.equal(h.state.hosts.get(h.hostA)?.accountCount, 0)
  assert.equal(h.state.hosts.get(h.hostB)?.accountCount, 1)
  assert.equal(await counter(h.metrics, 'relay_account_migrations_total'), 1)
  // The old host lost authority.
  const old = summary({ type: 'account', hostId: h.hostA, did: d, active: false, status: 'deactivated' })
  await decideAll(h, [old])
  assert.equal(reason(h, old.id), 'drop:wrong_host')
})

test('accounts beyond the host account limit are host-throttled and their events dropped', async () => {
  const h = await setup()
  h.state.hosts.setAccountLimit(h.hostA, 1)
  await known(h, 14)
  const d = did(15)
  h.plc.set(h.identity(d, 'A'))
  const c = commit(h.hostA, d, 1)
  await decideAll(h, [c])
  assert.equal(reason(h, c.id), 'drop:host_throttled')
  assert.equal(h.state.accounts.get(d)?.status, 'host-throttled')
  assert.equal(await counter(h.metrics, 'relay_accounts_created_total', { status: 'host-throttled' }), 1)
})

test('no_key: the account\'s events are held in order until the identity resolves, then retried, never emitted unverified', async () => {
  const h = await setup()
  const d = did(16)
  h.plc.set(h.identity(d, 'A'))
  // The PLC answers only after the events arrived: nothing may be decided before.
  const first = commit(h.hostA, d, 1, { verdict: 'no_key', keyVersion: 0 })
  const second = commit(h.hostA, d, 2, { verdict: 'no_key', keyVersion: 0 })
  const ident = summary({ type: 'identity', hostId: h.hostA, did: d })
  h.run([first, second, ident])
  assert.equal(h.pipeline.decisionFor(first.id), undefined)
  await until(() => h.pipeline.decisionFor(first.id)?.action === 'retry', 'retry of the first')
  // The key went down before the retry decision.
  assert.ok(h.pipeline.setKeysCalls.flat().some((k) => k.did === d && k.key?.multibase === keyA))
  assert.equal(reason(h, second.id), 'retry', 'later events are retried behind it')
  assert.equal(h.pipeline.decisionFor(ident.id), undefined, 'nothing is decided ahead of a pending retry')
  // The re-validated summaries come back with the same ids.
  const v = h.pipeline.version(d)
  const order = h.pipeline.decisions.length
  h.run([{ ...first, verdict: 'ok', keyVersion: v }])
  assert.equal(reason(h, first.id), 'accept')
  assert.equal(h.pipeline.decisionFor(ident.id), undefined)
  h.run([{ ...second, verdict: 'ok', keyVersion: v }])
  const after = h.pipeline.decisions.slice(order).map((x) => ('id' in x ? x.id : -1))
  assert.deepEqual(after, [first.id, second.id, ident.id], 'decided in upstream order')
  assert.equal(h.state.accounts.get(d)?.rev, rev(2))
  assert.equal(h.policy.stats().events, 0)
  assert.equal(await counter(h.metrics, 'relay_event_retries_total', { reason: 'no_key' }), 2)
})

test('no_key with the identity already cached (e.g. from SQLite after a restart) is retried at once', async () => {
  const h = await setup()
  const d = await known(h, 17)
  const e = commit(h.hostA, d, 2, { verdict: 'no_key', keyVersion: 0 })
  h.run([e])
  assert.equal(reason(h, e.id), 'retry')
})

test('signature failure: one forced re-resolve; retried only when the key changed, else dropped (signature)', async () => {
  const h = await setup()
  const d = await known(h, 18)
  // Same key in the document: dropped after the refresh.
  const bad = commit(h.hostA, d, 2, { verdict: 'bad_signature', keyVersion: h.pipeline.version(d) })
  const fetches = h.plc.fetches(d)
  await decideAll(h, [bad])
  assert.equal(reason(h, bad.id), 'drop:signature')
  assert.equal(h.plc.fetches(d), fetches + 1)
  // Rotated key: the refresh finds it and the event is validated again.
  h.plc.setKey(d, { type: 'Multikey', publicKeyMultibase: keyB })
  const rotated = commit(h.hostA, d, 2, { verdict: 'bad_signature', keyVersion: h.pipeline.version(d) })
  await decideAll(h, [rotated])
  assert.equal(reason(h, rotated.id), 'retry')
  assert.equal(h.pipeline.setKeysCalls.flat().at(-1)?.key?.multibase, keyB)
  // Fails again with the new key: dropped without another refresh.
  const f = h.plc.fetches(d)
  h.run([{ ...rotated, keyVersion: h.pipeline.version(d) }])
  assert.equal(reason(h, rotated.id), 'drop:signature')
  assert.equal(h.plc.fetches(d), f)
  assert.equal(await counter(h.metrics, 'relay_events_dropped_total', { reason: 'signature' }), 2)
})

test('a signature failure checked with an older key than the cache now holds is retried without a fetch', async () => {
  const h = await setup()
  const d = await known(h, 19)
  const old = h.pipeline.version(d)
  h.pipeline.setKeys([{ did: d, key: { multibase: keyB, type: 'Multikey' } }])
  const f = h.plc.fetches(d)
  const e = commit(h.hostA, d, 2, { verdict: 'high_s', keyVersion: old })
  h.run([e])
  assert.equal(reason(h, e.id), 'retry')
  assert.equal(h.plc.fetches(d), f)
})

test('#identity passes from any host, purges the cached identity and native key, and re-resolves in the background', async () => {
  const h = await setup()
  const d = await known(h, 20)
  h.plc.set(h.identity(d, 'A', keyB))
  const e = summary({ type: 'identity', hostId: h.hostB, did: d, handle: 'new.test' })
  h.run([e])
  assert.equal(reason(h, e.id), 'accept')
  assert.ok(h.pipeline.deleteKeysCalls.flat().includes(d), 'native key deleted')
  await until(() => h.pipeline.setKeysCalls.flat().some((k) => k.did === d && k.key?.multibase === keyB), 'new key pushed')
  // Identity events for unknown DIDs pass too.
  const stranger = summary({ type: 'identity', hostId: h.hostA, did: did(21) })
  h.run([stranger])
  assert.equal(reason(h, stranger.id), 'accept')
})

test('connection-level events: seq out of order dropped; #info and error frames not forwarded but reported', async () => {
  const h = await setup()
  const d = await known(h, 22)
  const ooo = commit(h.hostA, d, 2, { verdict: 'seq_out_of_order' })
  const info = summary({ type: 'info', hostId: h.hostA, upstreamSeq: -1, name: 'OutdatedCursor' })
  const err = summary({ type: 'error', hostId: h.hostA, upstreamSeq: -1, name: 'FutureCursor', message: 'Cursor in the future.' })
  const unknown = summary({ type: 'unknown', hostId: h.hostA })
  h.run([ooo, info, err, unknown])
  assert.deepEqual([ooo, info, err, unknown].map((e) => reason(h, e.id)), ['drop:seq_out_of_order', 'drop:upstream_info', 'drop:upstream_error', 'drop:unknown_type'])
  assert.deepEqual(h.upstreamFrames.map((e) => e.name), ['OutdatedCursor', 'FutureCursor'])
})

test('held events are bounded per account (hold_overflow) and time out (identity_unavailable)', async () => {
  const h = await setup({ maxHeldPerAccount: 2 })
  const d = did(23)
  h.plc.set(h.identity(d, 'A'))
  // Three events while the first lookup is in flight: the third does not fit.
  const es = [1, 2, 3].map((n) => commit(h.hostA, d, n, { verdict: 'no_key', keyVersion: 0 }))
  h.run(es)
  assert.equal(reason(h, es[2]!.id), 'drop:hold_overflow')
  await until(() => h.pipeline.decisionFor(es[1]!.id) !== undefined, 'held ones retried')
  assert.deepEqual([reason(h, es[0]!.id), reason(h, es[1]!.id)], ['retry', 'retry'])
  assert.equal(await counter(h.metrics, 'relay_events_dropped_total', { reason: 'hold_overflow' }), 1)

  // A PLC that is down: transient failures keep the event held, then the timeout drops it.
  const t = await setup({ holdTimeoutMs: 50, resolveRetryMs: 10 })
  await t.plc.close()
  const e = commit(t.hostA, did(24), 1, { verdict: 'no_key', keyVersion: 0 })
  t.run([e])
  assert.equal(t.pipeline.decisionFor(e.id), undefined, 'held, not dropped, while the PLC is unreachable')
  await until(() => t.pipeline.decisionFor(e.id) !== undefined, 'timed out', 10_000)
  assert.equal(reason(t, e.id), 'drop:identity_unavailable')
})

test('accept, drop and replace decisions reach the pipeline in one decide() call per batch', async () => {
  const h = await setup()
  const d = await known(h, 25)
  const calls: number[] = []
  const decide = h.pipeline.decide.bind(h.pipeline)
  h.pipeline.decide = (ds) => {
    calls.push(ds.length)
    decide(ds)
  }
  h.run([commit(h.hostA, d, 2), commit(h.hostA, d, 2), summary({ type: 'account', hostId: h.hostA, did: d, active: true })])
  assert.deepEqual(calls, [3])
})

test('account state reaches SQLite only once the event is written: a crash before the write does not turn the replay into a stale drop', async () => {
  const h = await setup()
  const d = await known(h, 26)
  h.pipeline.autoWrite = false
  const c2 = commit(h.hostA, d, 2)
  h.run([c2])
  assert.equal(reason(h, c2.id), 'accept')
  // Decisions already see rev 2 (a duplicate is stale) …
  const dup = commit(h.hostA, d, 2)
  h.run([dup])
  assert.equal(reason(h, dup.id), 'drop:stale_rev')
  // … but SQLite does not, until the log has the event.
  const row = () => h.state.sqlite.prepare('SELECT rev FROM accounts WHERE did = ?').get(d) as { rev: string }
  assert.equal(row().rev, rev(1))
  assert.equal(h.policy.stats().unwrittenChanges, 1)
  // "Crash": a new policy on the same database; the upstream replays commit 2: accepted again.
  const { Policy } = await import('../../../lib/relay/policy.js')
  const { KeyFeed } = await import('../../../lib/relay/key-feed.js')
  const decided: string[] = []
  const restarted = new Policy({
    state: h.state, resolver: h.resolver, keys: new KeyFeed(h.pipeline), metrics: h.metrics,
    pipeline: { decide: (ds) => decided.push(...ds.map((x) => x.action)) },
  })
  restarted.handleBatch({ events: [commit(h.hostA, d, 2)], written: null })
  assert.deepEqual(decided, ['accept'])
  // Once written, the change lands.
  h.pipeline.flushWrites()
  assert.equal(row().rev, rev(2))
  assert.equal(h.policy.stats().unwrittenChanges, 0)
  restarted.close()
})

test('commits from an account inactive only upstream make the policy ask the PDS (getRepoStatus), at most once per recheck interval', async () => {
  const { createServer } = await import('node:http')
  const { fetchRepoStatus } = await import('../../../lib/relay/repo-status.js')
  // A PDS that answers getRepoStatus from `status` and counts the questions.
  const status: Record<string, { active: boolean; status?: string }> = {}
  let asked = 0
  const pds = createServer((req, res) => {
    const did = new URL(req.url ?? '/', 'http://x').searchParams.get('did') ?? ''
    asked++
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ did, ...status[did] }))
  })
  await new Promise<void>((r) => pds.listen(0, '127.0.0.1', r))
  const hostname = `localhost:${(pds.address() as { port: number }).port}`
  try {
    const h = await setup({}, {
      repoStatus: (d: string, hostId: number) => fetchRepoStatus(h.state.hosts.get(hostId)!, d, { allowInsecureHosts: true, timeoutMs: 2_000, userAgent: 'test' }),
    })
    const hostId = h.state.hosts.ensure({ hostname, noTls: true, trusted: false, accountLimit: 10 }).host.id
    const d = did(27)
    h.plc.set({ ...h.identity(d, 'A'), pdsEndpoint: `http://${hostname}` })
    const first = commit(hostId, d, 1)
    await decideAll(h, [first])
    h.run([summary({ type: 'account', hostId, did: d, active: false, status: 'deactivated' })])
    // The PDS reactivated the account, but the relay missed that #account.
    status[d] = { active: true }
    const c2 = commit(hostId, d, 2)
    await decideAll(h, [c2])
    assert.equal(reason(h, c2.id), 'accept')
    assert.equal(h.state.accounts.get(d)?.upstreamStatus, 'active')
    assert.equal(asked, 1)
    // Deactivated for real (and last asked long ago): asked once, dropped; the next commit
    // within the interval is dropped without asking.
    h.run([summary({ type: 'account', hostId, did: d, active: false, status: 'deactivated' })])
    status[d] = { active: false, status: 'deactivated' }
    h.state.sqlite.prepare('UPDATE accounts SET upstream_checked_at = 0 WHERE did = ?').run(d)
    h.state.accounts.clearCache()
    const c3 = commit(hostId, d, 3)
    await decideAll(h, [c3])
    assert.equal(reason(h, c3.id), 'drop:inactive_account')
    const c4 = commit(hostId, d, 3)
    h.run([c4])
    assert.equal(reason(h, c4.id), 'drop:inactive_account')
    assert.equal(asked, 2)
    assert.equal(await counter(h.metrics, 'relay_repo_status_checks_total', { result: 'inactive' }), 1)
  } finally {
    pds.closeAllConnections()
    await new Promise<void>((r) => pds.close(() => r()))
  }
})
