#!/usr/bin/env node
// `make bench`: runs the benchmarks compiled from bench/*.ts (dist/bench/*.js), one after
// another, each in its own process. Benchmarks print their own results; they are never
// tests and assert nothing.
//   node scripts/run-bench.mjs                     every benchmark, in name order
//   node scripts/run-bench.mjs fanout              only those whose name contains "fanout"
//   node scripts/run-bench.mjs fanout -- --seconds 10 --mix small
//                                                  arguments after -- go to each benchmark
// Compile first (npx tsc -p tsconfig.json; the Makefile does). RINGLAY_NATIVE selects the
// addon build as for tests.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const dir = join(root, 'dist', 'bench')
const argv = process.argv.slice(2)
const dash = argv.indexOf('--')
const names = dash < 0 ? argv : argv.slice(0, dash)
const passed = dash < 0 ? [] : argv.slice(dash + 1)

if (!existsSync(dir)) {
  console.error('run-bench: no dist/bench: compile first (npx tsc -p tsconfig.json)')
  process.exit(1)
}
const benches = readdirSync(dir)
  .filter((f) => f.endsWith('.js'))
  .sort()
  .filter((f) => names.length === 0 || names.some((n) => f.includes(n)))
if (benches.length === 0) {
  console.error(`run-bench: no benchmark matches ${names.join(' ')}`)
  process.exit(1)
}
let failed = 0
for (const f of benches) {
  console.log(`\n== ${f.replace(/\.js$/, '')}`)
  const r = spawnSync(process.execPath, [join(dir, f), ...passed], { stdio: 'inherit', cwd: root })
  if (r.status !== 0) {
    console.error(`== ${f} failed (${r.status ?? r.signal})`)
    failed++
  }
}
process.exit(failed > 0 ? 1 : 0)
