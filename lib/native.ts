// Loads the addon. RINGLAY_NATIVE points at another build (debug, ASan: see Makefile);
// otherwise the node-gyp build that `npm install` made.
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

export interface BuildInfo {
  abi: number
  flavour: 'release' | 'debug' | 'asan'
}

let cached: Record<string, unknown> | undefined

export function nativePath(): string {
  return process.env.RINGLAY_NATIVE ?? join(packageRoot, 'build', 'Release', 'ringlay.node')
}

// The raw addon object. Each wrapper module casts it to the part of the binding it uses.
export function loadNative(): Record<string, unknown> {
  if (cached === undefined) {
    const require = createRequire(import.meta.url)
    cached = require(nativePath()) as Record<string, unknown>
  }
  return cached
}

export function buildInfo(): BuildInfo {
  return loadNative().build as BuildInfo
}

// Keeps freed memory in the process instead of trimming each arena back to the kernel after
// every burst (native/napi/allocator.cc says why). `serve` calls it once; false when the
// allocator refused (sanitizer builds).
export function tuneAllocator(opts: { trimThresholdBytes?: number; topPadBytes?: number } = {}): boolean {
  const tune = loadNative().tuneAllocator as (o: typeof opts) => boolean
  return tune(opts)
}
