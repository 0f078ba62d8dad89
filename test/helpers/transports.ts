// The transports every shared suite in test/lib/transport/ runs against: io_uring (skipped,
// with the probe's reason printed, where the kernel refuses it), uWebSockets.js, and
// `--io auto` with io_uring made to fail (RINGLAY_URING_FAIL=EPERM), which must come out as
// uWebSockets.js and pass the same tests.
import { selectTransport } from '../../lib/transport/select.js'
import type { Transport, TransportKind, TransportOptions } from '../../lib/transport/types.js'
import { createUringTransport, probeUring } from '../../lib/transport/uring.js'
import { createUwsTransport } from '../../lib/transport/select.js'

export interface TransportVariant {
  name: string
  // The kind the transport must report.
  kind: TransportKind
  // Set when the variant cannot run here; node:test prints it.
  skip: string | false
  create(opts?: TransportOptions): Promise<Transport>
}

export function transportVariants(): TransportVariant[] {
  const probe = probeUring()
  return [
    {
      name: 'uring',
      kind: 'uring',
      skip: probe.ok ? false : `io_uring unavailable here: ${probe.code ?? '?'}: ${probe.message}`,
      create: async (opts = {}) => createUringTransport(opts),
    },
    { name: 'uws', kind: 'uws', skip: false, create: (opts = {}) => createUwsTransport(opts) },
    {
      name: 'auto with io_uring failing (EPERM)',
      kind: 'uws',
      skip: false,
      create: async (opts = {}) => {
        const saved = process.env.RINGLAY_URING_FAIL
        process.env.RINGLAY_URING_FAIL = 'EPERM'
        try {
          return await selectTransport('auto', opts)
        } finally {
          if (saved === undefined) delete process.env.RINGLAY_URING_FAIL
          else process.env.RINGLAY_URING_FAIL = saved
        }
      },
    },
  ]
}

// Polls until `check` holds, for events that arrive from another thread or process.
export async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}
