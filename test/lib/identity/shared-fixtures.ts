// Locates ../shared/atproto (RINGLAY_SHARED_DIR overrides); tests skip when it is absent.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { packageRoot } from '../../../lib/native.js'

export function atprotoFixtures(): string | undefined {
  const dir = join(process.env.RINGLAY_SHARED_DIR ?? join(packageRoot, '..', 'shared'), 'atproto')
  if (existsSync(dir)) return dir
  console.log(`# fixtures not found at ${dir}: skipping (set RINGLAY_SHARED_DIR)`)
  return undefined
}

export function readJson(dir: string, path: string): unknown {
  return JSON.parse(readFileSync(join(dir, path), 'utf8'))
}

// Text fixtures: one case a line; blank and '#' lines skipped, nothing trimmed.
export function readLines(dir: string, path: string): string[] {
  return readFileSync(join(dir, path), 'utf8')
    .split(/\r?\n/)
    .filter((l) => l !== '' && !l.startsWith('#'))
}
