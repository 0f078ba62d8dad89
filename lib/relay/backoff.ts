// Redial timing for upstream hosts, in real seconds (indigo multiplied a bare integer by a
// Duration and slept nanoseconds, so its "backoff" was 0–1 s of jitter: indigo-relay.md §4.3).
//
// A failure is a dial that did not connect, or a connection that ended without progress (no
// new event and open for less than `progressAfterMs`): a host that accepts and hangs up at
// once escalates like one that refuses. After `maxFailures` in a row the host goes `offline`
// and is retried every `offlineRetryMs` instead of being abandoned (indigo stopped for good).
// Jitter (±20 %) keeps hosts that failed together (a network blip) from redialling together.

export interface BackoffOptions {
  baseMs: number
  maxMs: number
  maxFailures: number
  offlineRetryMs: number
  // Delay after a connection that made progress and then ended (not a failure).
  reconnectMs: number
  // A connection open at least this long counts as progress even without events (quiet hosts).
  progressAfterMs: number
}

export const backoffDefaults: BackoffOptions = {
  baseMs: 1_000,
  maxMs: 60_000,
  maxFailures: 15,
  offlineRetryMs: 15 * 60_000,
  reconnectMs: 1_000,
  progressAfterMs: 30_000,
}

// ±20 % around `ms`; `random` in [0, 1).
export function jittered(ms: number, random: () => number = Math.random): number {
  return Math.round(ms * (0.8 + 0.4 * random()))
}

// Delay before the next dial after `failures` consecutive failures (≥ 1): 1 s, 2 s, 4 s, …
// capped at maxMs; from maxFailures on, the offline retry interval.
export function redialDelayMs(failures: number, o: BackoffOptions = backoffDefaults, random: () => number = Math.random): number {
  if (failures <= 0) return jittered(o.reconnectMs, random)
  if (failures >= o.maxFailures) return jittered(o.offlineRetryMs, random)
  const exp = Math.min(failures - 1, 30)
  return jittered(Math.min(o.baseMs * 2 ** exp, o.maxMs), random)
}
