#!/usr/bin/env node
// Lists the addon's C++ sources for binding.gyp and scripts/build-native.mjs, so a new file
// under native/ is built without anyone editing a shared list.
//   (no flag)  every native/**/*.cc
//   --core     everything except native/napi/ (what C++ tests, fuzzers and benches link)
//   --secp     the libsecp256k1 C source shipped in the secp256k1 npm package
import { readdirSync, statSync } from 'node:fs'
import { join, relative, dirname } from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

export function nativeSources({ core = false } = {}) {
  const out = []
  const walk = (dir) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name)
      if (statSync(path).isDirectory()) walk(path)
      else if (name.endsWith('.cc')) out.push(relative(root, path))
    }
  }
  walk(join(root, 'native'))
  return core ? out.filter((p) => !p.startsWith('native/napi/')) : out
}

export function secpDir() {
  const require = createRequire(join(root, 'package.json'))
  return join(dirname(require.resolve('secp256k1/package.json')), 'src', 'secp256k1')
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = process.argv[2]
  if (arg === '--secp') console.log(relative(root, join(secpDir(), 'src', 'secp256k1.c')))
  else if (arg === '--secp-dir') console.log(relative(root, secpDir()))
  else console.log(nativeSources({ core: arg === '--core' }).join('\n'))
}
