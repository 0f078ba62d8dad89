#!/usr/bin/env node
// `npm test`: compile the TypeScript, run the native C++ tests (ASan + UBSan), then every
// dist/test/**/*.test.js with node's test runner.
//   npm test                 everything
//   npm test -- transport    only test files (and native cases) whose path contains "transport"
//   npm test -- --js-only    skip the native tests; --native-only skips the JS ones;
//                            --no-tsc skips compiling (make asan compiles first)
import { spawnSync } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const args = process.argv.slice(2)
const flags = new Set(args.filter((a) => a.startsWith('--')))
const filters = args.filter((a) => !a.startsWith('--'))

function step(name, cmd, cmdArgs, env = process.env) {
  console.error(`\n== ${name}`)
  const r = spawnSync(cmd, cmdArgs, { stdio: 'inherit', cwd: root, env })
  if (r.status !== 0) {
    console.error(`== ${name} failed`)
    process.exit(r.status ?? 1)
  }
}

function testFiles(dir) {
  const out = []
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) out.push(...testFiles(path))
    else if (name.endsWith('.test.js')) out.push(path)
  }
  return out
}

if (!flags.has('--no-tsc')) step('tsc', process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'])
if (!flags.has('--js-only')) {
  step('native tests', process.execPath, [join(root, 'scripts', 'run-native-tests.mjs'), ...filters])
}
if (!flags.has('--native-only')) {
  const files = testFiles(join(root, 'dist', 'test'))
    .map((p) => relative(root, p))
    .filter((p) => filters.length === 0 || filters.some((f) => p.includes(f)))
  if (files.length > 0) {
    step('js tests', process.execPath, ['--test', '--test-reporter=spec', '--test-concurrency=2', '--test-timeout=600000', ...files])
  }
}
