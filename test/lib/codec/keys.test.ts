import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createECDH, createHash, generateKeyPairSync, randomBytes, sign as nodeSign } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { P256Keypair, Secp256k1Keypair, multibaseToBytes } from '@atproto/crypto'
import { packageRoot } from '../../../lib/native.js'
import { KeyCache, VerifyPool, formatDidKey, parseKey, verifySignature } from '../../../lib/codec/keys.js'
import type { Curve, KeyType, VerifyJob, VerifyJobResult } from '../../../lib/codec/keys.js'

const ORDER: Record<Curve, bigint> = {
  secp256k1: 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n,
  p256: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
}

function fixtures(): string | undefined {
  const dir = join(process.env.RINGLAY_SHARED_DIR ?? join(packageRoot, '..', 'shared'), 'atproto')
  if (existsSync(dir)) return dir
  console.log(`# fixtures not found at ${dir}: skipping (set RINGLAY_SHARED_DIR)`)
  return undefined
}

function readJson<T>(dir: string, path: string): T {
  return JSON.parse(readFileSync(join(dir, path), 'utf8')) as T
}

function b64(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'base64'))
}

function toBig(bytes: Uint8Array): bigint {
  return BigInt('0x' + (Buffer.from(bytes).toString('hex') || '0'))
}

function toBytes32(v: bigint): Uint8Array {
  return new Uint8Array(Buffer.from(v.toString(16).padStart(64, '0'), 'hex'))
}

// The other signature for the same (r, s): s' = n − s. Mathematically valid, rejected as high-S.
function highSTwin(curve: Curve, sig: Uint8Array): Uint8Array {
  const out = new Uint8Array(64)
  out.set(sig.subarray(0, 32), 0)
  out.set(toBytes32(ORDER[curve] - toBig(sig.subarray(32, 64))), 32)
  return out
}

interface SigFixture {
  messageBase64: string
  algorithm: 'ES256' | 'ES256K'
  didDocSuite: KeyType
  publicKeyDid: string
  publicKeyMultibase: string
  signatureBase64: string
  validSignature: boolean
  tags: string[]
}

test('signature fixtures: 2 valid, high-S rejected as high_s, DER rejected as der_signature', (t) => {
  const dir = fixtures()
  if (!dir) return t.skip('no fixtures')
  const cases = readJson<SigFixture[]>(dir, 'interop/crypto/signature-fixtures.json')
  assert.equal(cases.length, 6)
  const seen: string[] = []
  for (const c of cases) {
    const msg = b64(c.messageBase64)
    const sig = b64(c.signatureBase64)
    const r = verifySignature(c.publicKeyDid, msg, sig)
    // The fixture's publicKeyMultibase is the compressed point without a codec: the legacy
    // DID-document encoding, which must give the same answer.
    const legacy = verifySignature(c.publicKeyMultibase, msg, sig, c.didDocSuite)
    assert.deepEqual(legacy, r)
    if (c.validSignature) {
      assert.deepEqual(r, { ok: true }, c.publicKeyDid)
      seen.push('valid')
    } else if (c.tags.includes('high-s')) {
      assert.deepEqual(r, { ok: false, reason: 'high_s' })
      const curve: Curve = c.algorithm === 'ES256K' ? 'secp256k1' : 'p256'
      assert.deepEqual(verifySignature(c.publicKeyDid, msg, highSTwin(curve, sig)), { ok: true })
      seen.push('high-s')
    } else {
      assert.ok(c.tags.includes('der-encoded'))
      assert.deepEqual(r, { ok: false, reason: 'der_signature' })
      seen.push('der')
    }
  }
  assert.deepEqual(seen.sort(), ['der', 'der', 'high-s', 'high-s', 'valid', 'valid'])
})

test('w3c did:key fixtures: public key derived with node:crypto, formatted and parsed by us', (t) => {
  const dir = fixtures()
  if (!dir) return t.skip('no fixtures')
  const k256 = readJson<{ privateKeyBytesHex: string; publicDidKey: string }[]>(dir, 'interop/crypto/w3c_didkey_K256.json')
  const p256 = readJson<{ privateKeyBytesBase58: string; publicDidKey: string }[]>(dir, 'interop/crypto/w3c_didkey_P256.json')
  const cases: { curve: Curve; ecdh: string; priv: Buffer; did: string }[] = [
    ...k256.map((c) => ({ curve: 'secp256k1' as const, ecdh: 'secp256k1', priv: Buffer.from(c.privateKeyBytesHex, 'hex'), did: c.publicDidKey })),
    ...p256.map((c) => ({ curve: 'p256' as const, ecdh: 'prime256v1', priv: Buffer.from(multibaseToBytes('z' + c.privateKeyBytesBase58)), did: c.publicDidKey })),
  ]
  assert.equal(cases.length, 6)
  for (const c of cases) {
    const ecdh = createECDH(c.ecdh)
    ecdh.setPrivateKey(c.priv)
    for (const form of ['compressed', 'uncompressed'] as const) {
      const point = new Uint8Array(ecdh.getPublicKey(null, form))
      assert.deepEqual(formatDidKey(c.curve, point), { ok: true, didKey: c.did })
    }
    const parsed = parseKey(c.did)
    assert.ok(parsed.ok)
    assert.equal(parsed.curve, c.curve)
    assert.deepEqual(Buffer.from(parsed.compressed), ecdh.getPublicKey(null, 'compressed'))
    assert.equal(parsed.didKey, c.did)
  }
})

test('DID documents: the Multikey and the legacy key decode to the same key', (t) => {
  const dir = fixtures()
  if (!dir) return t.skip('no fixtures')
  type Doc = { verificationMethod: { type: KeyType; publicKeyMultibase: string }[] }
  const modern = readJson<Doc>(dir, 'indigo-captures/did_plc_doc.json').verificationMethod[0]!
  const legacy = readJson<Doc>(dir, 'indigo-captures/did_plc_doc_legacy.json').verificationMethod[0]!
  assert.equal(modern.type, 'Multikey')
  assert.equal(legacy.type, 'EcdsaSecp256k1VerificationKey2019')
  const a = parseKey(modern.publicKeyMultibase, modern.type)
  const b = parseKey(legacy.publicKeyMultibase, legacy.type)
  assert.ok(a.ok && b.ok)
  assert.equal(a.curve, 'secp256k1')
  assert.deepEqual(Buffer.from(a.compressed), Buffer.from(b.compressed))
  assert.equal(a.didKey, `did:key:${modern.publicKeyMultibase}`)
  assert.equal(b.didKey, a.didKey)
  // Without the type, the legacy value is not a Multikey (no codec prefix).
  const untyped = parseKey(legacy.publicKeyMultibase)
  assert.equal(untyped.ok, false)
})

test('malformed keys are named reasons', () => {
  assert.deepEqual(parseKey('did:web:example.com'), { ok: false, reason: 'not_base58btc' })
  assert.deepEqual(parseKey('did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK'), { ok: false, reason: 'unsupported_key_type' })
  assert.deepEqual(parseKey('zQ3sh0'), { ok: false, reason: 'bad_base58' })
  assert.deepEqual(parseKey('zabc', 'Ed25519VerificationKey2020' as KeyType), { ok: false, reason: 'unsupported_key_type' })
  assert.deepEqual(formatDidKey('p256', new Uint8Array(32)), { ok: false, reason: 'bad_key_length' })
  const offCurve = new Uint8Array(33)
  offCurve[0] = 2
  offCurve[32] = 5
  assert.deepEqual(formatDidKey('secp256k1', offCurve), { ok: false, reason: 'invalid_point' })
  assert.throws(() => parseKey(42 as unknown as string), TypeError)
})

test('@atproto/crypto keypairs: our verify agrees, and rejects corruptions', async () => {
  for (const [curve, make] of [
    ['secp256k1', () => Secp256k1Keypair.create()],
    ['p256', () => P256Keypair.create()],
  ] as const) {
    const key = await make()
    const other = await make()
    const did = key.did()
    const parsed = parseKey(did)
    assert.ok(parsed.ok)
    assert.equal(parsed.curve, curve)
    assert.equal(parsed.didKey, did)
    for (let i = 0; i < 25; i++) {
      const msg = randomBytes(1 + (i * 37) % 300)
      const sig = await key.sign(msg)
      assert.equal(sig.length, 64)
      assert.deepEqual(verifySignature(did, msg, sig), { ok: true })
      // The Multikey text alone (no did:key prefix) names the same key.
      assert.deepEqual(verifySignature(did.slice('did:key:'.length), msg, sig), { ok: true })
      const flipped = Buffer.from(msg)
      flipped[i % flipped.length]! ^= 1 << (i % 8)
      assert.deepEqual(verifySignature(did, flipped, sig), { ok: false, reason: 'bad_signature' })
      assert.deepEqual(verifySignature(other.did(), msg, sig), { ok: false, reason: 'bad_signature' })
      assert.deepEqual(verifySignature(did, msg, highSTwin(curve, sig)), { ok: false, reason: 'high_s' })
      assert.deepEqual(verifySignature(did, msg, sig.subarray(0, 63)), { ok: false, reason: 'bad_signature_length' })
    }
  }
})

test('node:crypto P-256 signatures: low-S verify, high-S are named as such', () => {
  // OpenSSL does not normalize s, so about half of these are high-S: exactly those must fail.
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
  const jwk = publicKey.export({ format: 'jwk' })
  const point = new Uint8Array(Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]))
  const f = formatDidKey('p256', point)
  assert.ok(f.ok)
  let high = 0
  for (let i = 0; i < 40; i++) {
    const msg = randomBytes(64)
    const sig = new Uint8Array(nodeSign('sha256', msg, { key: privateKey, dsaEncoding: 'ieee-p1363' }))
    const isHigh = toBig(sig.subarray(32)) > ORDER.p256 / 2n
    high += isHigh ? 1 : 0
    assert.deepEqual(verifySignature(f.didKey, msg, sig), isHigh ? { ok: false, reason: 'high_s' } : { ok: true })
    if (isHigh) assert.deepEqual(verifySignature(f.didKey, msg, highSTwin('p256', sig)), { ok: true })
    const der = new Uint8Array(nodeSign('sha256', msg, { key: privateKey, dsaEncoding: 'der' }))
    assert.deepEqual(verifySignature(f.didKey, msg, der), { ok: false, reason: 'der_signature' })
  }
  assert.ok(high > 0 && high < 40, `high-S count ${high}`)
})

test('KeyCache: batch set, lookup, delete, unusable entries, eviction', () => {
  const cache = new KeyCache({ capacity: 4, shards: 1 })
  const k1 = 'did:key:zQ3shqwJEJyMBsBXCWyCBpUBMqxcon9oHB7mCvx4sSpMdLJwc'
  const k2 = 'did:key:zDnaembgSGUhZULN2Caob4HLJPaxBh92N7rtH21TErzqf8HQo'
  const res = cache.set([
    { did: 'did:plc:a', key: k1 },
    { did: 'did:plc:b', key: k2.slice(8), type: 'Multikey' },
    { did: 'did:plc:c', key: null },
    { did: 'did:plc:d', key: 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK' },
  ])
  assert.deepEqual(res, [null, null, 'no_signing_key', 'unsupported_key_type'])
  const [a, b, c, d, e] = cache.lookup(['did:plc:a', 'did:plc:b', 'did:plc:c', 'did:plc:d', 'did:plc:e'])
  assert.ok(a?.state === 'found' && a.didKey === k1 && a.curve === 'secp256k1')
  assert.ok(b?.state === 'found' && b.didKey === k2 && b.curve === 'p256')
  assert.ok(c?.state === 'unusable' && c.reason === 'no_signing_key')
  assert.ok(d?.state === 'unusable' && d.reason === 'unsupported_key_type')
  assert.deepEqual(e, { state: 'missing' })
  // A newer set replaces the entry with a higher version.
  cache.set([{ did: 'did:plc:a', key: k2 }])
  const [a2] = cache.lookup(['did:plc:a'])
  assert.ok(a2?.state === 'found' && a?.state === 'found' && a2.version > a.version && a2.didKey === k2)
  // Capacity 4: a fifth DID evicts the least recently used (b: a, c, d were touched since).
  cache.lookup(['did:plc:c', 'did:plc:d'])
  cache.set([{ did: 'did:plc:e', key: k1 }])
  assert.equal(cache.lookup(['did:plc:b'])[0]?.state, 'missing')
  assert.equal(cache.delete(['did:plc:a', 'did:plc:zzz']), 1)
  assert.equal(cache.lookup(['did:plc:a'])[0]?.state, 'missing')
  const st = cache.stats()
  assert.equal(st.evictions, 1)
  assert.equal(st.size, 3)
  assert.equal(st.capacity, 4)
  cache.clear()
  assert.equal(cache.stats().size, 0)
})

function sha256(b: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(b).digest())
}

test('VerifyPool: keys by text and by DID through the cache, results once per job', async () => {
  const signers = [await Secp256k1Keypair.create(), await P256Keypair.create(), await Secp256k1Keypair.create()]
  const cache = new KeyCache()
  cache.set([
    { did: 'did:plc:k0', key: signers[0]!.did() },
    { did: 'did:plc:k1', key: signers[1]!.did() },
    { did: 'did:plc:nokey', key: null },
  ])
  const jobs: VerifyJob[] = []
  const expected = new Map<number, string>()
  for (let i = 0; i < 300; i++) {
    const which = i % 3
    const msg = randomBytes(40)
    const sig = await signers[which]!.sign(msg)
    const kind = i % 6
    let job: VerifyJob
    if (kind === 0) {
      job = { tag: i, key: signers[which]!.did(), message: msg, sig }
      expected.set(i, 'ok')
    } else if (kind === 1) {
      job = { tag: i, did: `did:plc:k${which}`, digest: sha256(msg), sig } // k2 is not cached
      expected.set(i, which === 2 ? 'no_key/missing' : 'ok')
    } else if (kind === 2) {
      job = { tag: i, did: 'did:plc:nokey', message: msg, sig }
      expected.set(i, 'no_key/unusable/no_signing_key')
    } else if (kind === 3) {
      job = { tag: i, key: signers[(which + 1) % 3]!.did(), message: msg, sig }
      expected.set(i, 'bad_signature')
    } else if (kind === 4) {
      job = { tag: i, key: signers[which]!.did(), message: msg, sig: highSTwin(which === 1 ? 'p256' : 'secp256k1', sig) }
      expected.set(i, 'high_s')
    } else {
      job = { tag: i, key: 'did:key:zBAD0', message: msg, sig }
      expected.set(i, 'no_key/unusable/bad_base58')
    }
    jobs.push(job)
  }
  const got = new Map<number, VerifyJobResult>()
  let batches = 0
  let resolveDone: () => void = () => {}
  const done = new Promise<void>((r) => (resolveDone = r))
  const pool = new VerifyPool({ threads: 2, capacity: 64, keyCache: cache }, (results) => {
    batches++
    for (const r of results) {
      assert.ok(!got.has(r.tag), `tag ${r.tag} delivered twice`)
      got.set(r.tag, r)
    }
    if (got.size === jobs.length) resolveDone()
  })
  // Capacity 64: submit takes a prefix; feed the rest as results come back.
  let next = 0
  const feed = (): void => {
    next += pool.submit(jobs.slice(next))
    if (next < jobs.length) setTimeout(feed, 1)
  }
  feed()
  await done
  assert.ok(batches >= 1 && batches <= jobs.length)
  for (const [tag, want] of expected) {
    const r = got.get(tag)!
    const reason = r.ok ? 'ok' : [r.reason, r.keyState !== 'found' && r.keyState, r.keyReason].filter(Boolean).join('/')
    assert.equal(reason, want, `job ${tag}`)
  }
  const st = pool.stats()
  assert.equal(st.completed, jobs.length)
  assert.ok(st.rejected > 0, 'capacity 64 must have pushed back')
  assert.equal(st.inFlight, 0)
  pool.close()
})

test('VerifyPool: close("cancel") with jobs in flight delivers every job exactly once', async () => {
  const key = await Secp256k1Keypair.create()
  const msg = randomBytes(32)
  const sig = await key.sign(msg)
  const got = new Map<number, VerifyJobResult>()
  const pool = new VerifyPool({ threads: 1, capacity: 2000 }, (results) => {
    for (const r of results) {
      assert.ok(!got.has(r.tag))
      got.set(r.tag, r)
    }
  })
  const jobs = Array.from({ length: 2000 }, (_, i): VerifyJob => ({ tag: i, key: key.did(), message: msg, sig }))
  assert.equal(pool.submit(jobs), 2000)
  pool.close('cancel')
  assert.equal(pool.submit(jobs.slice(0, 1)), 0)
  // Results (run or cancelled) arrive through the threadsafe function after close().
  for (let i = 0; i < 500 && got.size < 2000; i++) await new Promise((r) => setTimeout(r, 5))
  assert.equal(got.size, 2000)
  const cancelled = [...got.values()].filter((r) => r.reason === 'cancelled').length
  const verified = [...got.values()].filter((r) => r.ok).length
  assert.equal(cancelled + verified, 2000)
  assert.ok(cancelled > 0, 'one worker cannot have verified 2000 signatures before close()')
})

test('misuse throws TypeError; domain failures never throw', () => {
  const k = 'did:key:zQ3shqwJEJyMBsBXCWyCBpUBMqxcon9oHB7mCvx4sSpMdLJwc'
  assert.throws(() => verifySignature(k, 'text' as unknown as Uint8Array, new Uint8Array(64)), TypeError)
  assert.throws(() => formatDidKey('ed25519' as Curve, new Uint8Array(33)), TypeError)
  const cache = new KeyCache()
  assert.throws(() => cache.set([{ did: 1 as unknown as string, key: k }]), TypeError)
  assert.throws(() => cache.set([{ did: 'did:plc:x', key: 5 as unknown as string }]), TypeError)
  assert.throws(() => cache.lookup('did:plc:x' as unknown as string[]), TypeError)
  // Only a real KeyCache may back a pool (checked by a native type tag, not by shape).
  const fake = { handle: { set() {}, lookup() {} } } as unknown as KeyCache
  assert.throws(() => new VerifyPool({ threads: 1, keyCache: fake }, () => {}), TypeError)
  const pool = new VerifyPool({ threads: 1 }, () => {})
  assert.throws(() => pool.submit([{ tag: 1, key: k, sig: new Uint8Array(64) }]), TypeError) // no message/digest
  assert.throws(() => pool.close('later' as 'drain'), TypeError)
  pool.close()
  assert.deepEqual(verifySignature(k, new Uint8Array(1), new Uint8Array(0)), { ok: false, reason: 'bad_signature_length' })
})
