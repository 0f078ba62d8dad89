// Signing keys and signature checks, backed by native/crypto (secp256k1 through libsecp256k1,
// P-256 through OpenSSL), plus the native DID → key cache the verify workers read and the
// native worker pool. The identity layer resolves DID documents in TypeScript and pushes the
// `#atproto` key down with KeyCache.set(); the hot path never crosses back into JS.
//
// Failures are values with stable snake_case reasons (the names native code uses, so metrics
// and logs agree); only misuse (wrong argument types) throws.
import { loadNative } from '../native.js'

export type Curve = 'secp256k1' | 'p256'

// A DID-document verificationMethod type (protocol.md §6.2); did:key / Multikey text needs none.
export type KeyType = 'Multikey' | 'EcdsaSecp256k1VerificationKey2019' | 'EcdsaSecp256r1VerificationKey2019'

export type KeyErrorReason =
  | 'not_did_key'
  | 'not_base58btc'
  | 'bad_base58'
  | 'bad_multicodec'
  | 'unsupported_key_type'
  | 'bad_key_length'
  | 'invalid_point'
  | 'no_signing_key'
  | 'internal_error'

export type VerifyReason =
  | 'no_key'
  | 'der_signature'
  | 'bad_signature_length'
  | 'r_out_of_range'
  | 's_out_of_range'
  | 'high_s'
  | 'bad_signature'
  | 'internal_error'

export interface ParsedKey {
  curve: Curve
  // SEC1 compressed point (33 bytes).
  compressed: Uint8Array
  didKey: string
}

export type ParseKeyResult = ({ ok: true } & ParsedKey) | { ok: false; reason: KeyErrorReason }
export type FormatResult = { ok: true; didKey: string } | { ok: false; reason: KeyErrorReason }
export type VerifyResult = { ok: true } | { ok: false; reason: KeyErrorReason | VerifyReason }

export type KeyState = 'found' | 'missing' | 'unusable'

export type KeyLookup =
  | { state: 'found'; version: number; curve: Curve; didKey: string }
  | { state: 'missing' }
  | { state: 'unusable'; version: number; reason: KeyErrorReason }

// What the identity layer pushes for one DID: its key as did:key / Multikey text (or, with
// `type`, a DID-document publicKeyMultibase), or no key at all (resolved, nothing usable).
export interface KeyCacheEntry {
  did: string
  key?: string | null
  type?: KeyType
}

export interface KeyCacheOptions {
  // Entries kept before least-recently-used ones are evicted (default 1,048,576).
  capacity?: number
  // Independent locks; a power of two (default 64).
  shards?: number
}

export interface KeyCacheStats {
  hits: number
  misses: number
  stores: number
  evictions: number
  removals: number
  size: number
  capacity: number
}

export interface RawVerifyOptions {
  curve: Curve
  iterations: number
  // 1: a loop on the calling thread; N > 1 (or 0 = all CPUs): N pool workers.
  threads: number
  // With threads = 1, go through a one-worker pool anyway (to see the pool's overhead).
  pool?: boolean
}

export interface RawVerifyBench {
  ok: true
  curve: Curve
  threads: number
  pooled: boolean
  iterations: number
  failures: number
  seconds: number
  verifiesPerSec: number
}

export interface VerifyJob {
  tag: number
  // The key as text (did:key, Multikey, or with `type` a DID-document value)…
  key?: string
  type?: KeyType
  // …or a DID, looked up on the worker in the pool's KeyCache.
  did?: string
  // The signed bytes (hashed with SHA-256 here), or their SHA-256 digest.
  message?: Uint8Array
  digest?: Uint8Array
  sig: Uint8Array
}

export interface VerifyJobResult {
  tag: number
  ok: boolean
  reason?: VerifyReason | 'cancelled'
  // Present for DID lookups (and when the key was unusable): the cache's answer and entry version.
  keyState?: KeyState
  keyVersion?: number
  keyReason?: KeyErrorReason
}

export interface VerifyPoolOptions {
  threads?: number
  // Jobs accepted and not yet delivered back; submit() takes fewer beyond that.
  capacity?: number
  keyCache?: KeyCache
}

export interface VerifyPoolStats {
  threads: number
  capacity: number
  submitted: number
  rejected: number
  completed: number
  cancelled: number
  inFlight: number
}

interface NativeKeyCache {
  set(entries: KeyCacheEntry[]): (KeyErrorReason | null)[]
  delete(dids: string[]): number
  lookup(dids: string[]): KeyLookup[]
  clear(): void
  stats(): KeyCacheStats
}

interface NativeVerifyPool {
  submit(items: VerifyJob[]): number
  stats(): VerifyPoolStats
  close(mode?: 'drain' | 'cancel'): void
}

interface NativeCrypto {
  parseKey(text: string, type?: string): ParseKeyResult
  formatDidKey(curve: Curve, point: Uint8Array): FormatResult
  verifySignature(key: string, type: string | undefined, message: Uint8Array, sig: Uint8Array): VerifyResult
  benchRawVerify(opts: RawVerifyOptions): RawVerifyBench | { ok: false; reason: string }
  KeyCache: new (opts?: KeyCacheOptions) => NativeKeyCache
  VerifyPool: new (opts: { threads?: number; capacity?: number; keyCache?: NativeKeyCache }, onResults: (results: VerifyJobResult[]) => void) => NativeVerifyPool
}

function native(): NativeCrypto {
  return loadNative() as unknown as NativeCrypto
}

// did:key, Multikey multibase, or (with `type`) a DID-document publicKeyMultibase.
export function parseKey(text: string, type?: KeyType): ParseKeyResult {
  return native().parseKey(text, type)
}

// did:key of a SEC1 point (33-byte compressed or 65-byte uncompressed); checks it is on the curve.
export function formatDidKey(curve: Curve, point: Uint8Array): FormatResult {
  return native().formatDidKey(curve, point)
}

// SHA-256 of `message`, then ECDSA with atproto's rules: 64-byte compact r‖s, low-S.
export function verifySignature(key: string, message: Uint8Array, sig: Uint8Array, type?: KeyType): VerifyResult {
  return native().verifySignature(key, type, message, sig)
}

export function benchRawVerify(opts: RawVerifyOptions): RawVerifyBench {
  const r = native().benchRawVerify(opts)
  if (!r.ok) throw new Error(`benchRawVerify: ${r.reason}`)
  return r
}

// The native DID → key cache. Every call is one crossing for a whole batch.
export class KeyCache {
  // The native object; pass the KeyCache itself to native constructors (VerifyPool, the validator).
  readonly handle: NativeKeyCache

  constructor(opts: KeyCacheOptions = {}) {
    this.handle = new (native().KeyCache)(opts)
  }

  // Per entry: null when a usable key was stored, else the reason it is stored as unusable
  // (lookups then answer `unusable` instead of `missing`, so workers stop asking).
  set(entries: KeyCacheEntry[]): (KeyErrorReason | null)[] {
    return this.handle.set(entries)
  }

  // On #identity or a key change. Returns how many entries existed.
  delete(dids: string[]): number {
    return this.handle.delete(dids)
  }

  lookup(dids: string[]): KeyLookup[] {
    return this.handle.lookup(dids)
  }

  clear(): void {
    this.handle.clear()
  }

  stats(): KeyCacheStats {
    return this.handle.stats()
  }
}

// Native verify workers. Results come back in batches on the JS thread through `onResults`.
export class VerifyPool {
  private readonly pool: NativeVerifyPool

  constructor(opts: VerifyPoolOptions, onResults: (results: VerifyJobResult[]) => void) {
    const { keyCache, ...rest } = opts
    this.pool = new (native().VerifyPool)({ ...rest, ...(keyCache ? { keyCache: keyCache.handle } : {}) }, onResults)
  }

  // How many of `jobs` (a prefix) were accepted; resubmit the rest after results came back.
  submit(jobs: VerifyJob[]): number {
    return this.pool.submit(jobs)
  }

  stats(): VerifyPoolStats {
    return this.pool.stats()
  }

  // 'drain' runs every accepted job first; 'cancel' reports the queued ones as cancelled.
  // Remaining results are still delivered to onResults afterwards.
  close(mode: 'drain' | 'cancel' = 'drain'): void {
    this.pool.close(mode)
  }
}
