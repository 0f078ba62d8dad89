// Codec benchmark: frames/s of validating realistic #commit frames, ours against the official
// TypeScript stack, all in one run on one set of frames.
//
// Frames: --repos accounts (secp256k1, with a --p256 share of P-256 keys, as on the network)
// seeded with --records records each, then --commits commits of 1–3 creates/updates/deletes,
// written by @atproto/repo and framed exactly as a PDS does (test/lib/codec/pds-frames.ts).
// Generated once per parameter set and cached in the OS temp dir (--regen to rebuild).
//
// Figures (best of --rounds, each about --seconds; rounds interleave the variants so that
// background load on a shared machine hits them alike). "Native loop" = benchValidate: the
// frames go through verify::Validator on --threads workers, fed and drained by a native loop
// exactly as the relay's ring thread drives it (no JS per batch); raw-sig is measured the same
// way (benchRawVerify), so the two are comparable.
//   parse        native loop, depth 'frame': frame decode, limits, syntax, op rules
//   parse+sig    native loop, depth 'commit': + CAR (every block hashed), commit block,
//                did/rev, future rev, signature — its frames/s is `sig` (one signature each)
//   full         native loop, depth 'full': + Sync 1.1 inversion (forward check, undo, hash)
//   full-js      Codec.validateBatch from JS (8 batches in flight), result objects included:
//                what the uWS fallback or a JS caller gets
//   full-1t      ours on the JS thread (validateSync), for the per-core cost
//   typescript   @atproto/repo + @atproto/crypto on the JS thread doing the same work: frame
//                decode (lex-cbor), readCarWithRoot (CID checks), commit decode, did/rev check,
//                verifyCommitSig, MST forward check, then inversion with the MST (undo the ops,
//                compare the root to prevData); the official firehose consumer has no inversion
//   ts-noinvert  the same without the inversion (what @atproto/sync's consumer does)
//   raw-sig      native raw verifies/s on the same number of pool threads (verify/raw_bench),
//                weighted by the frames' curve mix
//
//   node dist/bench/codec.js [--seconds 2] [--rounds 3] [--threads N] [--repos 40]
//        [--records 1000] [--commits 2000] [--p256 0.05] [--ts-frames 400] [--regen]
// Last line: `codec: full <N>/s, typescript <M>/s, ratio <R>x, sig <S>/s, raw-sig <T>/s`
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { decodeAll } from '@atproto/lex-cbor'
import type { Cid } from '@atproto/lex-data'
import { MST, MemoryBlockstore, def, readCarWithRoot, verifyCommitSig } from '@atproto/repo'
import { benchRawVerify } from '../lib/codec/keys.js'
import { Codec, benchValidate, validateSync } from '../lib/codec/validate.js'
import type { Depth, ValidateResult } from '../lib/codec/validate.js'
import { PdsRepo, rng } from '../test/lib/codec/pds-frames.js'

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '3' },
    threads: { type: 'string' },
    repos: { type: 'string', default: '40' },
    records: { type: 'string', default: '1000' },
    commits: { type: 'string', default: '2000' },
    p256: { type: 'string', default: '0.05' },
    'ts-frames': { type: 'string', default: '400' },
    regen: { type: 'boolean', default: false },
  },
})
const seconds = Number(args.seconds)
const rounds = Number(args.rounds)
const threads = Number(args.threads ?? availableParallelism())
const fmt = (v: number): string => Math.round(v).toLocaleString('en-US')

interface FrameSet {
  frames: Uint8Array[]
  keys: { did: string; key: string }[]
  curves: ('secp256k1' | 'p256')[] // per frame
  ops: number
}

// --- frames ---

async function generate(): Promise<FrameSet> {
  const rand = rng(424242)
  const repos: PdsRepo[] = []
  const nRepos = Number(args.repos)
  for (let r = 0; r < nRepos; r++) {
    const curve = rand() < Number(args.p256) ? 'p256' : 'secp256k1'
    const repo = await PdsRepo.create(`did:plc:bench${r.toString(36).padStart(19, '0')}`, curve, rand)
    await repo.seed(Math.round(Number(args.records) * (0.5 + rand())))
    repos.push(repo)
  }
  const set: FrameSet = { frames: [], keys: repos.map((r) => ({ did: r.did, key: r.didKey })), curves: [], ops: 0 }
  for (let i = 0; i < Number(args.commits); i++) {
    const repo = repos[Math.floor(rand() * repos.length)]!
    const c = await repo.commit(repo.plan(1 + Math.floor(rand() * 3)))
    set.frames.push(c.frame)
    set.curves.push(repo.curve)
    set.ops += c.ops.length
  }
  return set
}

async function frameSet(): Promise<FrameSet> {
  const file = join(tmpdir(), `ringlay-bench-codec-v1-${args.repos}-${args.records}-${args.commits}-${args.p256}.json`)
  if (!args.regen && existsSync(file)) {
    const j = JSON.parse(readFileSync(file, 'utf8')) as Omit<FrameSet, 'frames'> & { frames: string[] }
    return { ...j, frames: j.frames.map((f) => new Uint8Array(Buffer.from(f, 'base64'))) }
  }
  const t0 = performance.now()
  const set = await generate()
  console.log(`generated ${set.frames.length} frames in ${((performance.now() - t0) / 1000).toFixed(1)} s (cached in ${file})`)
  writeFileSync(file, JSON.stringify({ ...set, frames: set.frames.map((f) => Buffer.from(f).toString('base64')) }))
  return set
}

// --- ours ---

// Frames/s through the pool: the whole set as 8 concurrent batches (so converting finished
// batches to JS overlaps with the workers), repeated for about `seconds`.
async function pooled(codec: Codec, set: FrameSet, depth: Depth): Promise<number> {
  const opts = { depth, keys: set.keys, nowMs: Date.now() }
  const slice = Math.ceil(set.frames.length / 8)
  const batches = Array.from({ length: 8 }, (_, i) => set.frames.slice(i * slice, (i + 1) * slice))
  let n = 0
  const t0 = performance.now()
  do {
    const results = await Promise.all(batches.map((b) => codec.validateBatch(b, opts)))
    for (const rs of results) assertAllOk(rs, depth)
    n += set.frames.length
  } while (performance.now() - t0 < seconds * 1000)
  return n / ((performance.now() - t0) / 1000)
}

function nativeLoop(set: FrameSet, depth: Depth): number {
  const r = benchValidate(set.frames, { depth, keys: set.keys, nowMs: Date.now() }, { threads, seconds })
  if (r.failures > 0) throw new Error(`${depth}: ${r.failures} frames failed (${r.firstFailure})`)
  return r.framesPerSec
}

function singleThread(set: FrameSet): number {
  const opts = { keys: set.keys, nowMs: Date.now() }
  let n = 0
  const t0 = performance.now()
  do {
    for (let i = 0; i < set.frames.length; i += 100) assertAllOk(validateSync(set.frames.slice(i, i + 100), opts), 'full')
    n += set.frames.length
  } while (performance.now() - t0 < seconds * 1000)
  return n / ((performance.now() - t0) / 1000)
}

function assertAllOk(rs: ValidateResult[], what: string): void {
  const bad = rs.find((r) => !r.ok)
  if (bad) throw new Error(`${what}: a frame failed: ${JSON.stringify(bad)}`)
}

// Raw verifies/s on `threads` workers, for the frames' curve mix (harmonic by share).
function rawSig(set: FrameSet): number {
  const share = set.curves.filter((c) => c === 'p256').length / set.curves.length
  const rate = (curve: 'secp256k1' | 'p256'): number => {
    const probe = benchRawVerify({ curve, iterations: 200 * threads, threads })
    const r = benchRawVerify({ curve, iterations: Math.max(500, Math.round(probe.verifiesPerSec * seconds * (curve === 'p256' ? share : 1 - share))), threads })
    if (r.failures !== 0) throw new Error('benchRawVerify failures')
    return r.verifiesPerSec
  }
  const k = rate('secp256k1')
  const p = share > 0 ? rate('p256') : k
  return 1 / ((1 - share) / k + share / p)
}

// --- the TypeScript stack ---

interface Body {
  repo: string
  rev: string
  commit: Cid
  blocks: Uint8Array
  prevData: Cid
  ops: { action: string; path: string; cid: Cid | null; prev?: Cid }[]
}

async function tsValidate(frame: Uint8Array, keyOf: Map<string, string>, invert: boolean): Promise<boolean> {
  const [, body] = decodeAll(frame) as unknown as [unknown, Body]
  const car = await readCarWithRoot(body.blocks)
  if (!car.root.equals(body.commit)) return false
  const storage = new MemoryBlockstore(car.blocks)
  const commit = await storage.readObj(car.root, def.commit)
  if (commit.did !== body.repo || commit.rev !== body.rev) return false
  if (!(await verifyCommitSig(commit, keyOf.get(body.repo)!))) return false
  let mst = MST.load(storage, commit.data)
  for (const op of body.ops) {
    if (op.action === 'delete') continue
    const found = await mst.get(op.path)
    if (!found || !found.equals(op.cid!) || !car.blocks.has(op.cid!)) return false
  }
  if (!invert) return true
  const order = [...body.ops].sort((a, b) => (a.action === 'delete') !== (b.action === 'delete')
    ? (a.action === 'delete' ? -1 : 1)
    : a.path < b.path ? -1 : a.path > b.path ? 1 : 0)
  for (const op of order) {
    if (op.action === 'create') mst = await mst.delete(op.path)
    else if (op.action === 'update') mst = await mst.update(op.path, op.prev!)
    else mst = await mst.add(op.path, op.prev!)
  }
  return (await mst.getPointer()).equals(body.prevData)
}

async function typescript(set: FrameSet, invert: boolean): Promise<number> {
  const keyOf = new Map(set.keys.map((k) => [k.did, k.key]))
  const frames = set.frames.slice(0, Number(args['ts-frames']))
  let n = 0
  const t0 = performance.now()
  do {
    for (const f of frames) {
      if (!(await tsValidate(f, keyOf, invert))) throw new Error('typescript: a frame failed')
      n++
      if (performance.now() - t0 >= seconds * 1000) break
    }
  } while (performance.now() - t0 < seconds * 1000)
  return n / ((performance.now() - t0) / 1000)
}

// --- main ---

async function main(): Promise<void> {
  const set = await frameSet()
  const bytes = set.frames.reduce((s, f) => s + f.length, 0)
  const p256 = set.curves.filter((c) => c === 'p256').length
  console.log(`codec: ${set.frames.length} #commit frames (${(bytes / set.frames.length / 1024).toFixed(1)} KiB avg, ` +
    `${(set.ops / set.frames.length).toFixed(2)} ops avg, ${p256} P-256), ${threads} pool threads, ` +
    `${availableParallelism()} CPUs, ${seconds}s per figure, best of ${rounds}`)
  const codec = new Codec({ threads })
  const best: Record<string, number> = {}
  const keep = (name: string, v: number): void => {
    best[name] = Math.max(best[name] ?? 0, v)
  }
  for (let r = 0; r < rounds; r++) {
    keep('parse', nativeLoop(set, 'frame'))
    keep('parse+sig', nativeLoop(set, 'commit'))
    keep('full', nativeLoop(set, 'full'))
    keep('full-js', await pooled(codec, set, 'full'))
    keep('full-1t', singleThread(set))
    keep('raw-sig', rawSig(set))
    keep('typescript', await typescript(set, true))
    keep('ts-noinvert', await typescript(set, false))
  }
  codec.close()
  for (const [name, v] of Object.entries(best)) {
    const vsTs = name === 'raw-sig' ? '' : `   ${(v / best.typescript!).toFixed(1)}x typescript`
    console.log(`  ${name.padEnd(12)} ${fmt(v).padStart(9)} ${name === 'raw-sig' ? 'verifies/s' : 'frames/s  '}${vsTs}`)
  }
  const sig = best['parse+sig']!
  console.log(`  sig in pipeline = parse+sig frames/s (one signature each): ${((sig / best['raw-sig']!) * 100).toFixed(0)}% of raw-sig`)
  console.log(`codec: full ${fmt(best.full!)}/s, typescript ${fmt(best.typescript!)}/s, ` +
    `ratio ${(best.full! / best.typescript!).toFixed(1)}x, sig ${fmt(sig)}/s, raw-sig ${fmt(best['raw-sig']!)}/s`)
}

await main()
