#!/usr/bin/env node
// Builds (incrementally) and runs the native C++ tests under AddressSanitizer + UBSan.
//   node scripts/run-native-tests.mjs [--mode asan|debug|release] [--out build/dir] [filter...]
// The ASan runtime must be loaded before node itself, so the tests run in a child node with
// LD_PRELOAD set.
import { spawnSync, execFileSync } from 'node:child_process'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const args = process.argv.slice(2)
let mode = 'asan'
let outArg
while (args[0] === '--mode' || args[0] === '--out') {
  if (args[0] === '--mode') mode = args[1]
  else outArg = args[1]
  args.splice(0, 2)
}
const out = resolve(root, outArg ?? join('build', `native-${mode}`))
const build = spawnSync(process.execPath, [join(root, 'scripts', 'build-native.mjs'), '--mode', mode, '--out', out,
  '--tests', '--core-only'], { stdio: 'inherit' })
if (build.status !== 0) process.exit(build.status ?? 1)

const env = { ...process.env }
if (mode === 'asan') {
  const lib = (name) => execFileSync('gcc', [`-print-file-name=${name}`]).toString().trim()
  env.LD_PRELOAD = [lib('libasan.so'), lib('libubsan.so')].join(':')
  env.ASAN_OPTIONS = env.ASAN_OPTIONS ?? 'detect_leaks=0:abort_on_error=1'
  env.UBSAN_OPTIONS = env.UBSAN_OPTIONS ?? 'print_stacktrace=1:halt_on_error=1'
}
const script = `process.exitCode = require(${JSON.stringify(join(out, 'ringlay_tests.node'))}).run(${JSON.stringify(args)}) ? 1 : 0`
const r = spawnSync(process.execPath, ['-e', script], { stdio: 'inherit', env, cwd: root })
process.exit(r.status ?? 1)
