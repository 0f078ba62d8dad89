// Frame validation on the native worker pool (native/firehose/validate.h, native/napi/codec.cc).
// Frames go down in batches and come back as one result per frame, in order: `{ok: true}` or
// `{ok: false, reason}` plus a summary the policy layer acts on. Chain checks against stored
// state (since vs stored rev, prevData vs stored data CID, rev ordering) are the caller's.
//
//   const codec = new Codec({ keyCache })
//   const results = await codec.validateBatch(frames, { lenient: false })
//   codec.close()
//
// A frame whose account key is not in the cache yet fails with `no_key` (hold it, resolve the
// DID, push the key with KeyCache.set, resubmit); `key_unusable` means resolved without one.
import { loadNative } from '../native.js'
import type { KeyCache, KeyCacheEntry } from './keys.js'

export type Depth = 'frame' | 'commit' | 'full'
export type FrameType = 'commit' | 'sync' | 'identity' | 'account' | 'info' | 'error' | 'unknown'

export interface ValidateOptions {
  // Legacy hosts: ops without prev, inversion failures, tooBig/rebase become flags.
  lenient?: boolean
  // "Now" for the future-rev check (default: the clock).
  nowMs?: number
  // How far to go: parse only, + commit and signature, + inversion (default 'full').
  depth?: Depth
  // Tests only: false skips signatures (flag `signature_skipped`).
  checkSignatures?: boolean
  // The caller knows the account has prior state: no prevData is `missing_prev_data`.
  requirePrevData?: boolean
  // Keys for this call, used before the key cache (a DID listed without a key is unusable).
  keys?: KeyCacheEntry[]
}

// Stable reason names (native firehose::Reason). `detail` may refine some of them.
export type ValidateReason =
  | 'frame_too_large' | 'bad_header_cbor' | 'missing_body' | 'bad_body_cbor' | 'header_not_map'
  | 'bad_header_op' | 'unknown_op' | 'missing_type' | 'body_not_map' | 'missing_field'
  | 'wrong_field_type' | 'seq_out_of_range' | 'blocks_too_large' | 'too_many_ops' | 'bad_op_action'
  | 'bad_op_path' | 'op_missing_cid' | 'op_unexpected_cid' | 'op_missing_prev' | 'op_unexpected_prev'
  | 'bad_did' | 'bad_rev' | 'bad_since' | 'bad_time' | 'bad_handle'
  | 'too_big_set' | 'rebase_set'
  | 'bad_car' | 'car_root_mismatch' | 'commit_block_missing' | 'bad_commit_cbor' | 'bad_commit_shape'
  | 'bad_commit_version' | 'commit_did_mismatch' | 'commit_rev_mismatch' | 'bad_commit_rev'
  | 'future_rev' | 'sync_extra_blocks'
  | 'no_key' | 'key_unusable'
  | 'der_signature' | 'bad_signature_length' | 'r_out_of_range' | 's_out_of_range' | 'high_s'
  | 'bad_signature' | 'crypto_internal_error'
  | 'missing_prev_data' | 'key_not_found' | 'invalid_key' | 'missing_block' | 'bad_mst_node'
  | 'invalid_op' | 'invalid_op_path' | 'duplicate_op_path' | 'op_value_mismatch'
  | 'deleted_key_present' | 'missing_record_block' | 'inversion_mismatch'
  | 'cancelled'

// Bits of ValidateResult.flags (native kFlag*): facts for the policy layer, not failures.
export const ValidateFlags = {
  noPrevData: 1 << 0, // #commit without prevData: first commit, or drop if state is known
  legacyOps: 1 << 1, // lenient: an update/delete without prev
  inversionSkipped: 1 << 2, // inversion not run (legacy ops, or depth < 'full')
  inversionFailed: 1 << 3, // lenient: accepted although inversion failed (see invertReason)
  signatureSkipped: 1 << 4, // checkSignatures: false
  tooBig: 1 << 5, // lenient: tooBig was true
  rebase: 1 << 6, // lenient: rebase was true
} as const

export function flagNames(flags: number): (keyof typeof ValidateFlags)[] {
  return (Object.keys(ValidateFlags) as (keyof typeof ValidateFlags)[]).filter((k) => (flags & ValidateFlags[k]) !== 0)
}

// What the policy layer needs of a frame; fields appear for the types that have them.
export interface FrameSummary {
  type: FrameType
  t?: string // header `t` of an unknown type
  seq?: number // upstream seq
  did?: string // `repo` on #commit
  time?: string
  rev?: string // #commit, #sync
  since?: string | null // #commit
  commit?: string // #commit: the message's; #sync: the CAR root
  data?: string // the commit's MST root, once decoded
  prevData?: string | null // #commit
  ops?: number // #commit
  blocksSize?: number
  active?: boolean // #account
  status?: string // #account
  handle?: string // #identity
  name?: string // #info name, error frame `error`
  message?: string
}

export interface ValidateResultBase extends FrameSummary {
  flags: number
  // Set when a key was looked up, and the cache entry's version (retry a failed signature only
  // once a newer version is stored).
  keyStatus?: 'found' | 'missing' | 'unusable'
  keyVersion?: number
  // The inversion's own answer when it failed (lenient: accepted anyway).
  invertReason?: string
}

export type ValidateResult =
  | (ValidateResultBase & { ok: true })
  // detail: the sub-reason (a CBOR/CAR error, a commit field, a KeyErrorReason for key_unusable…)
  | (ValidateResultBase & { ok: false; reason: ValidateReason; detail?: string; opIndex?: number })

export interface CodecOptions {
  // Workers (default: every CPU this process may use).
  threads?: number
  // Frames accepted and not yet returned; larger batches are fed in as results come back.
  capacity?: number
  keyCache?: KeyCache
}

export interface CodecStats {
  threads: number
  capacity: number
  submitted: number
  rejected: number
  completed: number
  cancelled: number
  inFlight: number
  batches: number
}

interface NativeCodecPool {
  validate(frames: Uint8Array[], options?: ValidateOptions): Promise<ValidateResult[]>
  stats(): CodecStats
  close(mode?: 'drain' | 'cancel'): void
}

export interface ValidateBench {
  threads: number
  frames: number
  failures: number
  firstFailure?: ValidateReason
  seconds: number
  framesPerSec: number
}

interface NativeCodec {
  CodecPool: new (opts: { threads?: number; capacity?: number; keyCache?: unknown }) => NativeCodecPool
  validateFramesSync(frames: Uint8Array[], options?: ValidateOptions, keyCache?: unknown): ValidateResult[]
  benchValidate(frames: Uint8Array[], options: ValidateOptions, run: { threads?: number; seconds?: number }): ValidateBench
}

function native(): NativeCodec {
  return loadNative() as unknown as NativeCodec
}

// Validation on native workers; one crossing per batch each way.
export class Codec {
  private readonly pool: NativeCodecPool

  constructor(opts: CodecOptions = {}) {
    const { keyCache, ...rest } = opts
    this.pool = new (native().CodecPool)({ ...rest, ...(keyCache ? { keyCache: keyCache.handle } : {}) })
  }

  // One result per frame, in order. Rejects (code ERR_CODEC_CLOSED) after close().
  validateBatch(frames: Uint8Array[], options: ValidateOptions = {}): Promise<ValidateResult[]> {
    return this.pool.validate(frames, options)
  }

  stats(): CodecStats {
    return this.pool.stats()
  }

  // 'drain' finishes accepted frames; 'cancel' reports the unstarted ones as `cancelled`.
  // Pending batches resolve either way.
  close(mode: 'drain' | 'cancel' = 'drain'): void {
    this.pool.close(mode)
  }
}

// The same on the calling thread, one frame after another (micro-benchmarks, small tools).
export function validateSync(frames: Uint8Array[], options: ValidateOptions = {}, keyCache?: KeyCache): ValidateResult[] {
  return native().validateFramesSync(frames, options, keyCache?.handle)
}

// Benchmarks only: `frames` through a native Validator of `threads` workers (0 = all CPUs), over
// and over for about `seconds`, fed and drained natively as the relay's ring thread does (no JS
// per batch). Blocks the calling thread meanwhile.
export function benchValidate(frames: Uint8Array[], options: ValidateOptions, run: { threads?: number; seconds?: number }): ValidateBench {
  return native().benchValidate(frames, options, run)
}
