// Signature verification benchmark: verifies/s per curve, side by side in one run, for
//   ours-1t    native verify() in a loop on one thread (benchRawVerify, measured natively;
//              this is what bench/codec quotes as `raw-sig`)
//   ours-pool  the same through the native worker pool with N workers (default: all CPUs)
//   node       node:crypto verify() with a prebuilt KeyObject (OpenSSL, one thread, via JS)
//   noble      @atproto/crypto verifySignature(did:key, …) — the official TypeScript stack
//
//   node dist/bench/crypto-verify.js [--seconds 1] [--rounds 2] [--threads N] [--curves secp256k1,p256]
//
// Every implementation verifies the same 64 valid low-S signatures made by @atproto/crypto
// keypairs (a check that all of them say valid runs first). Each figure is the best of
// `--rounds` runs of about `--seconds` each; rounds interleave the implementations so that
// background load hits them alike. Last line:
// `crypto-verify: secp256k1 ours <a>/s (pool <b>/s on N), node <c>/s, noble <d>/s; p256 …`
import { createPublicKey, randomBytes, verify as nodeVerify } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import { availableParallelism } from 'node:os'
import { parseArgs } from 'node:util'
import { P256Keypair, Secp256k1Keypair, verifySignature as nobleVerify } from '@atproto/crypto'
import { benchRawVerify, parseKey, verifySignature } from '../lib/codec/keys.js'
import type { Curve } from '../lib/codec/keys.js'

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '2' },
    threads: { type: 'string' },
    curves: { type: 'string', default: 'secp256k1,p256' },
  },
})
const seconds = Number(args.seconds)
const rounds = Number(args.rounds)
const threads = Number(args.threads ?? availableParallelism())
const curves = args.curves.split(',') as Curve[]

interface Case {
  did: string
  key: KeyObject
  msg: Uint8Array
  sig: Uint8Array
}

// A few keypairs and 64 signed messages per curve.
async function makeCases(curve: Curve): Promise<Case[]> {
  const pairs = await Promise.all(Array.from({ length: 4 }, () => (curve === 'secp256k1' ? Secp256k1Keypair.create() : P256Keypair.create())))
  const cases: Case[] = []
  for (let i = 0; i < 64; i++) {
    const kp = pairs[i % pairs.length]!
    const parsed = parseKey(kp.did())
    if (!parsed.ok) throw new Error(`parseKey: ${parsed.reason}`)
    // node:crypto takes the point as a JWK; decompress through an SPKI round trip.
    const spki = Buffer.concat([spkiPrefix(curve), Buffer.from(parsed.compressed)])
    const key = createPublicKey({ key: spki, format: 'der', type: 'spki' })
    const msg = randomBytes(200)
    cases.push({ did: kp.did(), key, msg, sig: await kp.sign(msg) })
  }
  return cases
}

// DER SubjectPublicKeyInfo header for a 33-byte compressed point on `curve`.
function spkiPrefix(curve: Curve): Buffer {
  const oid = curve === 'secp256k1' ? '06052b8104000a' : '06082a8648ce3d030107'
  const algo = '06072a8648ce3d0201' + oid
  const algoSeq = '30' + (algo.length / 2).toString(16).padStart(2, '0') + algo
  const bitString = '03' + (34).toString(16) + '00'
  const body = algoSeq + bitString
  return Buffer.from('30' + ((body.length / 2) + 33).toString(16) + body, 'hex')
}

function timeLoop(fn: (i: number) => boolean): number {
  let n = 0
  const t0 = performance.now()
  const until = t0 + seconds * 1000
  while (performance.now() < until) {
    for (let k = 0; k < 50; k++, n++) if (!fn(n)) throw new Error(`verify failed at ${n}`)
  }
  return n / ((performance.now() - t0) / 1000)
}

async function timeLoopAsync(fn: (i: number) => Promise<boolean>): Promise<number> {
  let n = 0
  const t0 = performance.now()
  const until = t0 + seconds * 1000
  while (performance.now() < until) {
    for (let k = 0; k < 10; k++, n++) if (!(await fn(n))) throw new Error(`verify failed at ${n}`)
  }
  return n / ((performance.now() - t0) / 1000)
}

// Native runs take an iteration count: size it from a short calibration run.
function native(curve: Curve, t: number): number {
  const probe = benchRawVerify({ curve, iterations: 200 * t, threads: t })
  const iterations = Math.max(200, Math.round(probe.verifiesPerSec * seconds))
  const r = benchRawVerify({ curve, iterations, threads: t })
  if (r.failures !== 0) throw new Error(`benchRawVerify: ${r.failures} failures`)
  return r.verifiesPerSec
}

const fmt = (v: number): string => Math.round(v).toLocaleString('en-US')

async function main(): Promise<void> {
  const summary: string[] = []
  console.log(`crypto-verify: ${seconds}s per figure, best of ${rounds}, pool = ${threads} workers, ${availableParallelism()} CPUs`)
  for (const curve of curves) {
    const cases = await makeCases(curve)
    for (const c of cases) {
      const ours = verifySignature(c.did, c.msg, c.sig)
      const node = nodeVerify('sha256', c.msg, { key: c.key, dsaEncoding: 'ieee-p1363' }, c.sig)
      const noble = await nobleVerify(c.did, c.msg, c.sig)
      if (!ours.ok || !node || !noble) throw new Error(`${curve}: implementations disagree on a valid signature`)
    }
    const best: Record<string, number> = { 'ours-1t': 0, 'ours-pool': 0, node: 0, noble: 0 }
    for (let r = 0; r < rounds; r++) {
      best['ours-1t'] = Math.max(best['ours-1t']!, native(curve, 1))
      best['ours-pool'] = Math.max(best['ours-pool']!, native(curve, threads))
      best.node = Math.max(best.node!, timeLoop((i) => {
        const c = cases[i & 63]!
        return nodeVerify('sha256', c.msg, { key: c.key, dsaEncoding: 'ieee-p1363' }, c.sig)
      }))
      best.noble = Math.max(best.noble!, await timeLoopAsync((i) => {
        const c = cases[i & 63]!
        return nobleVerify(c.did, c.msg, c.sig)
      }))
    }
    console.log(`\n${curve}`)
    for (const [name, v] of Object.entries(best)) {
      console.log(`  ${name.padEnd(10)} ${fmt(v).padStart(9)} verifies/s   ${(v / best.noble!).toFixed(1)}x noble, ${(v / best.node!).toFixed(2)}x node`)
    }
    summary.push(`${curve} ours ${fmt(best['ours-1t']!)}/s (pool ${fmt(best['ours-pool']!)}/s on ${threads}), node ${fmt(best.node!)}/s, noble ${fmt(best.noble!)}/s`)
  }
  console.log(`\ncrypto-verify: ${summary.join('; ')}`)
}

await main()
