#!/usr/bin/env node
// Builds the addon without node-gyp, into a directory of its own, so that several builds
// (release, debug, ASan, one per developer working in parallel) can coexist. `npm install`
// still builds through binding.gyp; the flags here mirror it.
//
//   node scripts/build-native.mjs [--mode release|debug|asan|fuzz] [--out DIR] [--core-only]
//                                 [--cxx g++] [--cc gcc] [--jobs N]
//
// Output: DIR/ringlay.node and DIR/libringlay_core.a (every native source except napi/, plus
// libsecp256k1) for fuzzers and native benches; with --tests also DIR/ringlay_tests.node
// (test/native/**/*.cc, run by scripts/run-native-tests.mjs). Incremental: an object is rebuilt
// when its source or any header it included (from the -MMD depfile) is newer.
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { nativeSources, secpDir } from './native-sources.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(join(root, 'package.json'))

const { values: opts } = parseArgs({
  options: {
    mode: { type: 'string', default: 'release' },
    out: { type: 'string' },
    'core-only': { type: 'boolean', default: false },
    tests: { type: 'boolean', default: false },
    jobs: { type: 'string' },
    cxx: { type: 'string', default: 'g++' },
    cc: { type: 'string', default: 'gcc' },
    verbose: { type: 'boolean', default: false },
  },
})

const MODES = {
  release: { cxx: ['-O2', '-g1'], defs: [] },
  debug: { cxx: ['-O0', '-g'], defs: ['RINGLAY_DEBUG=1', 'NODE_ADDON_API_ENABLE_TYPE_CHECK_ON_AS'] },
  // Coverage-instrumented core for libFuzzer targets (use with --cxx clang++-16 --cc clang-16).
  fuzz: {
    cxx: ['-O1', '-g', '-fno-omit-frame-pointer', '-fsanitize=fuzzer-no-link,address,undefined',
      '-fno-sanitize-recover=undefined'],
    defs: ['RINGLAY_DEBUG=1', 'RINGLAY_FUZZ=1'],
    ld: ['-fsanitize=address,undefined'],
  },
  asan: {
    cxx: ['-O1', '-g', '-fno-omit-frame-pointer', '-fsanitize=address,undefined',
      '-fno-sanitize-recover=undefined'],
    defs: ['RINGLAY_DEBUG=1'],
    ld: ['-fsanitize=address,undefined'],
  },
}
const mode = MODES[opts.mode]
if (!mode) throw new Error(`unknown --mode ${opts.mode} (release, debug, asan)`)
const out = resolve(root, opts.out ?? join('build', `native-${opts.mode}`))
const jobs = Number(opts.jobs ?? availableParallelism())

const nodeInclude = process.env.RINGLAY_NODE_INCLUDE ?? '/usr/include/node'
const secp = secpDir()
const addonApi = require('node-addon-api').include_dir
const commonDefs = ['NAPI_VERSION=8', 'NAPI_DISABLE_CPP_EXCEPTIONS', 'NODE_ADDON_API_DISABLE_DEPRECATED',
  'BUILDING_NODE_EXTENSION']
const cxxFlags = [
  '-std=c++20', '-fPIC', '-pthread', '-fno-exceptions', '-fvisibility=hidden',
  '-Wall', '-Wextra', '-Werror', '-Wno-unused-parameter', '-Wno-missing-field-initializers',
  ...mode.cxx,
  ...[...commonDefs, ...mode.defs].map((d) => `-D${d}`),
  `-I${join(root, 'native')}`, `-I${addonApi}`, `-I${nodeInclude}`, `-I${join(secp, 'include')}`,
]
const secpFlags = [
  '-fPIC', '-O2', '-g1', '-w', ...(mode.ld ?? []),
  `-I${secp}`, `-I${join(secp, 'src')}`,
  ...['ECMULT_GEN_PREC_BITS=4', 'ECMULT_WINDOW_SIZE=15', 'USE_ENDOMORPHISM=1', 'USE_NUM_NONE=1',
    'USE_FIELD_INV_BUILTIN=1', 'USE_SCALAR_INV_BUILTIN=1', 'HAVE___INT128=1', 'USE_ASM_X86_64=1',
    'USE_FIELD_5X52=1', 'USE_SCALAR_4X64=1'].map((d) => `-D${d}`),
]

function mtime(path) {
  try {
    return statSync(path).mtimeMs
  } catch {
    return -1
  }
}

// True when obj is missing or older than its source or any dependency in its depfile.
function stale(src, obj) {
  const t = mtime(obj)
  if (t < 0 || mtime(src) > t) return true
  const dep = obj.replace(/\.o$/, '.d')
  if (!existsSync(dep)) return true
  const deps = readFileSync(dep, 'utf8').replace(/\\\n/g, ' ').split(':').slice(1).join(':')
  return deps.split(/\s+/).filter(Boolean).some((d) => mtime(d) > t || mtime(d) < 0)
}

function run(cmd, args) {
  if (opts.verbose) console.error([cmd, ...args].join(' '))
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] })
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} failed (${code})`))))
  })
}

async function pool(tasks) {
  let next = 0
  let failed = null
  const worker = async () => {
    while (next < tasks.length && !failed) {
      const task = tasks[next++]
      try {
        await task()
      } catch (err) {
        failed = err
      }
    }
  }
  await Promise.all(Array.from({ length: jobs }, worker))
  if (failed) throw failed
}

async function main() {
  const all = nativeSources()
  const core = nativeSources({ core: true })
  const sources = opts['core-only'] ? core : all
  const objOf = (src) => join(out, 'obj', src.replace(/\.cc$/, '.o'))
  const secpSrc = join(secp, 'src', 'secp256k1.c')
  const secpObj = join(out, 'obj', 'secp256k1.o')

  const tasks = []
  for (const src of sources) {
    const obj = objOf(src)
    if (!stale(join(root, src), obj)) continue
    mkdirSync(dirname(obj), { recursive: true })
    tasks.push(() => {
      console.error(`  CXX ${src}`)
      return run(opts.cxx, [...cxxFlags, '-MMD', '-MF', obj.replace(/\.o$/, '.d'), '-c', join(root, src), '-o', obj])
    })
  }
  if (mtime(secpObj) < 0) {
    mkdirSync(dirname(secpObj), { recursive: true })
    tasks.push(() => {
      console.error('  CC  libsecp256k1')
      return run(opts.cc, [...secpFlags, '-c', secpSrc, '-o', secpObj])
    })
  }
  await pool(tasks)

  const coreLib = join(out, 'libringlay_core.a')
  const coreObjs = [...core.map(objOf), secpObj]
  if (tasks.length > 0 || mtime(coreLib) < 0) {
    await run('rm', ['-f', coreLib])
    await run('ar', ['rcs', coreLib, ...coreObjs])
  }
  if (opts.tests) await buildTests(coreObjs, objOf)
  if (opts['core-only']) return
  const addon = join(out, 'ringlay.node')
  if (tasks.length > 0 || mtime(addon) < 0) {
    console.error(`  LD  ${addon}`)
    await run(opts.cxx, ['-shared', '-pthread', ...(mode.ld ?? []), '-o', addon, ...all.map(objOf), secpObj])
  }
}

// test/native/**/*.cc linked with the core into ringlay_tests.node (see test/native/harness.cc).
async function buildTests(coreObjs, objOf) {
  const tests = listCc(join(root, 'test', 'native')).map((p) => p.slice(root.length + 1))
  const flags = [...cxxFlags, `-I${join(root, 'test', 'native')}`]
  const tasks = []
  for (const src of tests) {
    const obj = objOf(src)
    if (!stale(join(root, src), obj)) continue
    mkdirSync(dirname(obj), { recursive: true })
    tasks.push(() => {
      console.error(`  CXX ${src}`)
      return run(opts.cxx, [...flags, '-MMD', '-MF', obj.replace(/\.o$/, '.d'), '-c', join(root, src), '-o', obj])
    })
  }
  await pool(tasks)
  const lib = join(out, 'ringlay_tests.node')
  const inputs = [...tests.map(objOf), ...coreObjs]
  if (tasks.length > 0 || inputs.some((o) => mtime(o) > mtime(lib))) {
    console.error(`  LD  ${lib}`)
    await run(opts.cxx, ['-shared', '-pthread', ...(mode.ld ?? []), '-o', lib, ...inputs])
  }
}

function listCc(dir) {
  const out = []
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) out.push(...listCc(path))
    else if (name.endsWith('.cc')) out.push(path)
  }
  return out
}

main().catch((err) => {
  console.error(err.message)
  process.exit(1)
})
