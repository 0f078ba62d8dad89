#!/usr/bin/env node
// Repository rules that a compiler does not check (house style in HACKING.md):
// - napi.h (and node_api.h) only under native/napi/ (and the test harness);
// - source files under 600 lines;
// - no focused tests left in (test.only / describe.only / { only: true }).
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const problems = []

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) walk(path, out)
    else out.push(path)
  }
  return out
}

const files = ['native', 'lib', 'test', 'bench', 'scripts']
  .flatMap((d) => walk(join(root, d)))
  .filter((p) => /\.(cc|h|ts|mjs)$/.test(p))

for (const path of files) {
  const rel = relative(root, path)
  const text = readFileSync(path, 'utf8')
  const lines = text.split('\n').length
  if (lines > 600) problems.push(`${rel}: ${lines} lines (limit 600)`)
  if (/#include\s*[<"](napi|node_api)\.h[>"]/.test(text) && !rel.startsWith('native/napi/') && !rel.startsWith('test/native/harness')) {
    problems.push(`${rel}: includes napi.h outside native/napi/`)
  }
  if (rel.startsWith('test/') && /\b(test|it|describe)\.only\(|\bonly:\s*true/.test(text)) {
    problems.push(`${rel}: focused test`)
  }
}

if (problems.length > 0) {
  console.error(problems.join('\n'))
  process.exit(1)
}
console.log(`tidy: ${files.length} files ok`)
