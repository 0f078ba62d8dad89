// Picks the transport once, for the whole process (peers.md D): `uws` as asked; `uring` or
// fail naming the cause; `auto` probes io_uring and falls back to uWebSockets.js only when
// ring setup is refused (EPERM: seccomp or kernel.io_uring_disabled; ENOSYS: no io_uring;
// EINVAL: flags this kernel lacks). Resource errors (ENOMEM, EMFILE) stay errors: falling
// back would hide a broken host behind a slower transport.
import type { IoMode } from '../config.js'
import { logger } from '../logger.js'
import type { Transport, TransportOptions } from './types.js'
import { UringUnavailableError, createUringTransport, probeUring } from './uring.js'

export const fallbackCodes: readonly string[] = ['EPERM', 'ENOSYS', 'EINVAL']

export class TransportUnavailableError extends Error {
  override name = 'TransportUnavailableError'
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

export async function createUwsTransport(opts: TransportOptions): Promise<Transport> {
  // Loaded only when chosen, so an io_uring process never loads uWebSockets.js's addon.
  const { UwsTransport } = await import('./uws.js')
  return new UwsTransport(opts)
}

export async function selectTransport(mode: IoMode, opts: TransportOptions = {}): Promise<Transport> {
  if (mode === 'uws') return createUwsTransport(opts)
  const probe = probeUring()
  let failure = probe.ok ? undefined : { code: probe.code ?? 'EIO', message: probe.message }
  if (failure === undefined) {
    // A ring that passes the probe can still fail to set up with the real flags; that
    // failure is judged by the same rule.
    try {
      return createUringTransport(opts)
    } catch (err) {
      if (!(err instanceof UringUnavailableError)) throw err
      failure = { code: err.code, message: err.message }
    }
  }
  const fallsBack = fallbackCodes.includes(failure.code)
  if (mode === 'auto' && fallsBack) {
    logger.warn('transport', 'io_uring unavailable, using uWebSockets.js', { code: failure.code, reason: failure.message })
    return createUwsTransport(opts)
  }
  const hint = mode === 'uring' && fallsBack ? ' (--io auto would fall back to uWebSockets.js)' : ''
  throw new TransportUnavailableError(failure.code, `io_uring unavailable: ${failure.code}: ${failure.message}${hint}`)
}
