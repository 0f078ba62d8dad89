#!/usr/bin/env node
// Builds and runs the libFuzzer targets (test/fuzz/*_fuzz.cc) with Debian's clang-16.
//
//   node scripts/fuzz.mjs [--seconds N] [--only name[,name]] [--replay-only] [--out DIR]
//   FUZZ_SECONDS=N make fuzz
//
// Steps: build the core (scripts/build-native.mjs --mode fuzz) and every target; seed each
// corpus (build/fuzz/corpus/<target>) from the fixtures in ../shared/atproto (data-model
// CBOR, the captured commits' CAR blocks, frames built from captures and scenarios) and from
// test/fuzz/seeds/<target>/ when present; replay test/fuzz/regressions/<target>/* (crash
// reproducers that were fixed: they must keep passing); fuzz each target for N seconds
// (default 60). Exits non-zero when a target crashes, leaks or times out; the reproducer is
// left in build/fuzz/artifacts/<target>/ (copy it into test/fuzz/regressions/<target>/ with
// the fix). Standalone fuzz binaries link the system libcrypto for SHA-256.
import { spawn, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const { values: opts } = parseArgs({
  options: {
    seconds: { type: 'string' },
    only: { type: 'string' },
    'replay-only': { type: 'boolean', default: false },
    out: { type: 'string' },
  },
})
const seconds = Number(opts.seconds ?? process.env.FUZZ_SECONDS ?? 60)
const out = resolve(root, opts.out ?? join('build', 'fuzz'))
const CXX = process.env.FUZZ_CXX ?? 'clang++-16'
const CC = process.env.FUZZ_CC ?? 'clang-16'

function have(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0
}

function libfuzzerPresent() {
  const r = spawnSync(CXX, ['-print-file-name=libclang_rt.fuzzer-x86_64.a'], { encoding: 'utf8' })
  return r.status === 0 && existsSync(r.stdout.trim())
}

// clang-16 + libFuzzer, installing them when we are root and they are missing.
function ensureToolchain() {
  if (have(CXX) && libfuzzerPresent()) return
  if (process.getuid?.() === 0 && have('apt-get')) {
    console.error('fuzz: installing clang-16 and libfuzzer-16-dev (apt-get)')
    const r = spawnSync('apt-get', ['install', '-y', 'clang-16', 'libfuzzer-16-dev'], { stdio: 'inherit' })
    if (r.status === 0 && have(CXX) && libfuzzerPresent()) return
  }
  console.error(`fuzz: ${CXX} with libFuzzer is required. Install it with:\n` +
    '  sudo apt-get install -y clang-16 libfuzzer-16-dev\n' +
    '(or set FUZZ_CXX/FUZZ_CC to another clang with -fsanitize=fuzzer support)')
  process.exit(2)
}

function run(cmd, args, options = {}) {
  return new Promise((resolvePromise) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], ...options })
    p.on('exit', (code, signal) => resolvePromise(code ?? (signal ? 128 : 1)))
  })
}

// Runs a command, keeping its stderr (libFuzzer's report) while echoing progress lines.
function runCapture(cmd, args) {
  return new Promise((resolvePromise) => {
    // UBSan reports must stop the run (the core is built with recoverable UBSan checks).
    const env = { ...process.env, UBSAN_OPTIONS: process.env.UBSAN_OPTIONS ?? 'halt_on_error=1:print_stacktrace=1' }
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env })
    let err = ''
    p.stdout.on('data', (d) => process.stderr.write(d))
    p.stderr.on('data', (d) => {
      err += d
      for (const line of String(d).split('\n')) {
        if (/(pulse|DONE|INITED|ERROR|SUMMARY|Test unit written|stat::)/.test(line)) console.error(`    ${line}`)
      }
    })
    p.on('exit', (code, signal) => resolvePromise({ code: code ?? (signal ? 128 : 1), err }))
  })
}

function targets() {
  const dir = join(root, 'test', 'fuzz')
  let names = readdirSync(dir).filter((n) => n.endsWith('_fuzz.cc')).map((n) => n.replace(/_fuzz\.cc$/, ''))
  if (opts.only) {
    const want = opts.only.split(',')
    names = names.filter((n) => want.includes(n))
  }
  return names.sort()
}

function nodeInclude() {
  return process.env.RINGLAY_NODE_INCLUDE ?? '/usr/include/node'
}

async function buildTargets(names) {
  const code = await run(process.execPath, [join(root, 'scripts', 'build-native.mjs'), '--mode', 'fuzz',
    '--cxx', CXX, '--cc', CC, '--out', out, '--core-only'])
  if (code !== 0) throw new Error('fuzz: core build failed')
  const flags = ['-std=c++20', '-O1', '-g', '-fno-omit-frame-pointer', '-fno-exceptions', '-pthread',
    '-fsanitize=fuzzer,address,undefined', '-DRINGLAY_DEBUG=1', '-DRINGLAY_FUZZ=1',
    `-I${join(root, 'native')}`, `-I${join(root, 'test', 'fuzz')}`, `-I${nodeInclude()}`]
  const lib = join(out, 'libringlay_core.a')
  for (const name of names) {
    const src = join(root, 'test', 'fuzz', `${name}_fuzz.cc`)
    const bin = join(out, `${name}_fuzz`)
    if (existsSync(bin) && statSync(bin).mtimeMs > Math.max(statSync(src).mtimeMs, statSync(lib).mtimeMs)) continue
    console.error(`  LD  ${bin}`)
    const c = await run(CXX, [...flags, src, lib, '-lcrypto', '-o', bin])
    if (c !== 0) throw new Error(`fuzz: building ${name} failed`)
  }
}

// ---- corpus seeds from the shared fixtures ----

// A minimal canonical DAG-CBOR encoder for atproto JSON ({"$link"}, {"$bytes"}), enough to
// turn fixture bodies into wire frames. Independent of the C++ encoder on purpose.
function cborHead(major, n) {
  if (n < 24) return Buffer.from([(major << 5) | n])
  if (n < 0x100) return Buffer.from([(major << 5) | 24, n])
  if (n < 0x10000) {
    const b = Buffer.alloc(3)
    b[0] = (major << 5) | 25
    b.writeUInt16BE(n, 1)
    return b
  }
  if (n < 0x100000000) {
    const b = Buffer.alloc(5)
    b[0] = (major << 5) | 26
    b.writeUInt32BE(n, 1)
    return b
  }
  const b = Buffer.alloc(9)
  b[0] = (major << 5) | 27
  b.writeBigUInt64BE(BigInt(n), 1)
  return b
}

function base32Decode(s) {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567'
  const out = []
  let acc = 0
  let bits = 0
  for (const ch of s) {
    acc = (acc << 5) | alphabet.indexOf(ch)
    bits += 5
    if (bits >= 8) {
      bits -= 8
      out.push((acc >> bits) & 0xff)
    }
  }
  return Buffer.from(out)
}

function encodeAtJson(v) {
  if (v === null) return Buffer.from([0xf6])
  if (v === true || v === false) return Buffer.from([v ? 0xf5 : 0xf4])
  if (typeof v === 'number') return v >= 0 ? cborHead(0, v) : cborHead(1, -1 - v)
  if (typeof v === 'string') {
    const b = Buffer.from(v, 'utf8')
    return Buffer.concat([cborHead(3, b.length), b])
  }
  if (Array.isArray(v)) return Buffer.concat([cborHead(4, v.length), ...v.map(encodeAtJson)])
  const keys = Object.keys(v)
  if (keys.length === 1 && keys[0] === '$link') {
    const cid = base32Decode(v.$link.slice(1))
    return Buffer.concat([Buffer.from([0xd8, 0x2a]), cborHead(2, cid.length + 1), Buffer.from([0]), cid])
  }
  if (keys.length === 1 && keys[0] === '$bytes') {
    const b = Buffer.from(v.$bytes, 'base64')
    return Buffer.concat([cborHead(2, b.length), b])
  }
  const sorted = keys.map((k) => Buffer.from(k, 'utf8'))
    .sort((a, b) => a.length - b.length || Buffer.compare(a, b))
  const parts = [cborHead(5, sorted.length)]
  for (const k of sorted) parts.push(cborHead(3, k.length), k, encodeAtJson(v[k.toString('utf8')]))
  return Buffer.concat(parts)
}

function header(op, t) {
  return encodeAtJson(t ? { t, op } : { op })
}

function sharedDir() {
  const dir = process.env.RINGLAY_SHARED_DIR ?? join(root, '..', 'shared')
  return existsSync(join(dir, 'atproto')) ? join(dir, 'atproto') : null
}

function readJson(path) {
  return JSON.parse(readFileSync(path, 'utf8'))
}

function fixtureSeeds() {
  const shared = sharedDir()
  const seeds = { cbor: [], car: [], frame: [] }
  if (!shared) {
    console.error('fuzz: ../shared/atproto not found; corpora start from test/fuzz/seeds only')
    return seeds
  }
  for (const c of readJson(join(shared, 'interop/data-model/data-model-fixtures.json'))) {
    seeds.cbor.push(Buffer.from(c.cbor_base64, 'base64'))
  }
  const bodies = []
  const capDir = join(shared, 'indigo-captures')
  for (const name of readdirSync(capDir).filter((n) => n.startsWith('firehose_commit_'))) {
    bodies.push({ t: '#commit', body: readJson(join(capDir, name)) })
  }
  const scenDir = join(shared, 'indigo-scenarios')
  for (const name of readdirSync(scenDir).filter((n) => n.endsWith('.json'))) {
    for (const m of readJson(join(scenDir, name)).messages) bodies.push({ t: m.frame.header.t, body: m.frame.body })
  }
  for (const { t, body } of bodies) {
    const encoded = encodeAtJson(body)
    seeds.frame.push(Buffer.concat([header(1, t), encoded]))
    seeds.cbor.push(encoded)
    if (body.blocks?.$bytes) {
      const car = Buffer.from(body.blocks.$bytes, 'base64')
      seeds.car.push(car)
      for (const block of carBlocks(car)) seeds.cbor.push(block)
    }
  }
  // One of each small message type, so the fuzzer starts with every shape.
  const small = [
    ['#identity', { seq: 24, did: 'did:plc:abc', time: '2025-01-01T00:00:00Z', handle: 'a.test' }],
    ['#account', { seq: 256, did: 'did:plc:abc', time: '2025-01-01T00:00:00Z', active: false, status: 'deleted' }],
    ['#info', { name: 'OutdatedCursor', message: 'old cursor' }],
  ]
  for (const [t, body] of small) seeds.frame.push(Buffer.concat([header(1, t), encodeAtJson(body)]))
  seeds.frame.push(Buffer.concat([header(-1, ''), encodeAtJson({ error: 'FutureCursor', message: 'x' })]))
  return seeds
}

// Splits a CAR into its block payloads (seed extraction only; no validation).
function carBlocks(car) {
  const blocks = []
  let pos = 0
  const varint = () => {
    let v = 0
    let shift = 0
    for (;;) {
      const b = car[pos++]
      v += (b & 0x7f) * 2 ** shift
      shift += 7
      if (!(b & 0x80)) return v
    }
  }
  const headerLen = varint()
  pos += headerLen
  while (pos < car.length) {
    const len = varint()
    blocks.push(car.subarray(pos + 36, pos + len)) // blessed CIDs are 36 bytes
    pos += len
  }
  return blocks
}

function writeCorpus(name, seeds) {
  const dir = join(out, 'corpus', name)
  mkdirSync(dir, { recursive: true })
  const extra = join(root, 'test', 'fuzz', 'seeds', name)
  const all = [...(seeds ?? [])]
  if (existsSync(extra)) for (const f of readdirSync(extra)) all.push(readFileSync(join(extra, f)))
  for (const s of all) writeFileSync(join(dir, createHash('sha1').update(s).digest('hex')), s)
  return dir
}

// ---- run ----

async function replay(name, bin) {
  const dir = join(root, 'test', 'fuzz', 'regressions', name)
  if (!existsSync(dir)) return true
  const files = readdirSync(dir).map((f) => join(dir, f)).filter((f) => statSync(f).isFile())
  if (files.length === 0) return true
  console.error(`fuzz: ${name}: replaying ${files.length} regression input(s)`)
  const r = await runCapture(bin, ['-runs=1', ...files])
  if (r.code !== 0) console.error(r.err.split('\n').slice(-30).join('\n'))
  return r.code === 0
}

async function fuzz(name, bin, corpus) {
  const artifacts = join(out, 'artifacts', name)
  mkdirSync(artifacts, { recursive: true })
  const args = [corpus, `-max_total_time=${seconds}`, '-print_final_stats=1', '-rss_limit_mb=2048',
    '-timeout=10', `-artifact_prefix=${artifacts}/`, '-max_len=262144']
  const dict = join(root, 'test', 'fuzz', `${name}.dict`)
  if (existsSync(dict)) args.push(`-dict=${dict}`)
  console.error(`fuzz: ${name}: ${seconds}s`)
  const r = await runCapture(bin, args)
  const stat = (key) => r.err.match(new RegExp(`stat::${key}:\\s+(\\d+)`))?.[1]
  const cov = [...r.err.matchAll(/cov: (\d+) ft: (\d+) corp: (\d+)/g)].pop()
  const summary = { target: name, ok: r.code === 0, execs: Number(stat('number_of_executed_units') ?? 0),
    execsPerSec: Number(stat('average_exec_per_sec') ?? 0), cov: Number(cov?.[1] ?? 0),
    features: Number(cov?.[2] ?? 0), corpus: Number(cov?.[3] ?? 0) }
  if (!summary.ok) console.error(r.err.split('\n').slice(-40).join('\n'))
  return summary
}

async function main() {
  ensureToolchain()
  const names = targets()
  if (names.length === 0) throw new Error('fuzz: no test/fuzz/*_fuzz.cc targets')
  await buildTargets(names)
  const seeds = fixtureSeeds()
  const results = []
  let failed = false
  for (const name of names) {
    const bin = join(out, `${name}_fuzz`)
    if (!(await replay(name, bin))) {
      console.error(`fuzz: ${name}: a regression input fails again`)
      failed = true
      continue
    }
    if (opts['replay-only']) continue
    const corpus = writeCorpus(name, seeds[name])
    const s = await fuzz(name, bin, corpus)
    results.push(s)
    if (!s.ok) failed = true
  }
  for (const s of results) {
    console.error(`fuzz: ${s.target.padEnd(8)} ${s.ok ? 'ok     ' : 'FINDING'} execs=${s.execs} ` +
      `(${s.execsPerSec}/s) cov=${s.cov} ft=${s.features} corpus=${s.corpus}`)
  }
  if (failed) {
    console.error(`fuzz: findings: reproducers in ${join(out, 'artifacts')}`)
    process.exit(1)
  }
}

main().catch((err) => {
  console.error(err.message)
  process.exit(1)
})
