// The JS batch API over the native validator: ordering, batches larger than the pool, the key
// cache's three answers, options, closing, misuse.
import { before, test } from 'node:test'
import assert from 'node:assert/strict'
import { KeyCache } from '../../../lib/codec/keys.js'
import { Codec, ValidateFlags, flagNames, validateSync } from '../../../lib/codec/validate.js'
import { PdsRepo, rng } from './pds-frames.js'
import type { PdsCommit } from './pds-frames.js'

const commits: PdsCommit[] = []
let repos: PdsRepo[] = []

before(async () => {
  const rand = rng(5)
  repos = [
    await PdsRepo.create('did:plc:validatejs0000000000001', 'secp256k1', rand),
    await PdsRepo.create('did:plc:validatejs0000000000002', 'p256', rand),
  ]
  for (const r of repos) await r.seed(120)
  for (let i = 0; i < 40; i++) {
    const r = repos[i % 2]!
    commits.push(await r.commit(r.plan(1 + (i % 3))))
  }
})

const now = () => Date.now()
const keysOf = () => repos.map((r) => ({ did: r.did, key: r.didKey }))

test('a batch larger than the pool comes back whole and in order', async () => {
  const codec = new Codec({ threads: 2, capacity: 4 })
  try {
    const frames = commits.map((c) => c.frame)
    const results = await codec.validateBatch(frames, { keys: keysOf(), nowMs: now() })
    assert.equal(results.length, frames.length)
    results.forEach((r, i) => {
      assert.equal(r.ok, true, JSON.stringify(r))
      assert.equal(r.seq, commits[i]!.seq)
      assert.equal(r.did, commits[i]!.did)
      assert.equal(r.commit, commits[i]!.commitCid.toString())
    })
    // The same verdicts on the calling thread.
    assert.deepEqual(validateSync(frames, { keys: keysOf(), nowMs: now() }), results)
    // Two batches in flight at once resolve independently.
    const [a, b] = await Promise.all([
      codec.validateBatch(frames.slice(0, 10), { keys: keysOf() }),
      codec.validateBatch(frames.slice(10, 13)),
    ])
    assert.ok(a.every((r) => r.ok))
    assert.deepEqual(b.map((r) => (r.ok ? 'ok' : r.reason)), ['no_key', 'no_key', 'no_key'])
    assert.deepEqual(await codec.validateBatch([]), [])
    assert.equal(codec.stats().inFlight, 0)
  } finally {
    codec.close()
  }
})

test('keys come from the native key cache: missing, found, unusable', async () => {
  const cache = new KeyCache()
  const codec = new Codec({ keyCache: cache })
  try {
    const frame = commits[0]!.frame
    const [missing] = await codec.validateBatch([frame])
    assert.equal(missing!.ok, false)
    assert.equal(!missing!.ok && missing!.reason, 'no_key')
    assert.equal(missing!.keyStatus, 'missing')

    cache.set([{ did: repos[0]!.did, key: repos[0]!.didKey }])
    const [found] = await codec.validateBatch([frame])
    assert.equal(found!.ok, true, JSON.stringify(found))
    assert.equal(found!.keyStatus, 'found')
    assert.ok((found!.keyVersion ?? 0) > 0)

    cache.set([{ did: repos[0]!.did, key: null }])
    const [unusable] = await codec.validateBatch([frame])
    assert.equal(!unusable!.ok && unusable!.reason, 'key_unusable')
    assert.equal(!unusable!.ok && unusable!.detail, 'no_signing_key')

    // A per-call key list wins over the cache.
    const [explicit] = await codec.validateBatch([frame], { keys: keysOf() })
    assert.equal(explicit!.ok, true)
  } finally {
    codec.close()
  }
})

test('options: depth, lenient, skipped signatures', () => {
  const frame = commits[3]!.frame
  const [parsed] = validateSync([frame], { depth: 'frame' })
  assert.equal(parsed!.ok, true)
  assert.equal(parsed!.data, undefined) // the commit block was not read
  const [signed] = validateSync([frame], { depth: 'commit', keys: keysOf() })
  assert.equal(signed!.ok, true)
  assert.deepEqual(flagNames(signed!.flags), ['inversionSkipped'])
  const [skipped] = validateSync([frame], { checkSignatures: false })
  assert.equal(skipped!.ok, true)
  assert.equal(skipped!.flags, ValidateFlags.signatureSkipped)
  const [future] = validateSync([frame], { keys: keysOf(), nowMs: Date.parse('2020-01-01T00:00:00Z') })
  assert.equal(!future!.ok && future!.reason, 'future_rev')
})

test('close resolves what is pending; later batches reject', async () => {
  const codec = new Codec({ threads: 1, capacity: 2 })
  const pending = codec.validateBatch(commits.map((c) => c.frame), { keys: keysOf() })
  codec.close('cancel')
  const results = await pending
  assert.equal(results.length, commits.length)
  assert.ok(results.some((r) => !r.ok && r.reason === 'cancelled'))
  assert.ok(results.every((r) => r.ok || r.reason === 'cancelled'))
  await assert.rejects(codec.validateBatch([commits[0]!.frame]), (err: Error & { code?: string }) => err.code === 'ERR_CODEC_CLOSED')
})

test('misuse throws; malformed frames are values', () => {
  assert.throws(() => validateSync('nope' as never), TypeError)
  assert.throws(() => validateSync([commits[0]!.frame], { depth: 'deep' as never }), TypeError)
  assert.throws(() => validateSync([commits[0]!.frame], { keys: [{ did: 1 }] as never }), TypeError)
  const [r] = validateSync([new Uint8Array([0xa1, 0x61])]) // a header map cut short
  assert.equal(!r!.ok && r!.reason, 'bad_header_cbor')
  assert.equal(r!.type, 'unknown')
})
