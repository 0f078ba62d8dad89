// Asking a PDS for an account's status (com.atproto.sync.getRepoStatus) when its commits keep
// coming while the relay believes it inactive upstream: the #account that reactivated it may
// have been missed (indigo#1161: accounts stuck inactive for good; indigo-relay.md §3.2, §10).
// Through the SSRF-safe client, with a short timeout; undefined when the PDS gives no usable
// answer (the caller keeps what it had).
import type { Host } from '../db/hosts.js'
import { hostBaseUrl } from './hostname.js'
import { SafeFetchError, safeGet } from './ssrf.js'
import type { LookupAll } from './ssrf.js'

export interface RepoStatusOptions {
  allowInsecureHosts: boolean
  timeoutMs: number
  userAgent: string
  lookup?: LookupAll
}

// The upstream status as the account store keeps it: 'active', or the inactive status.
export async function fetchRepoStatus(host: Pick<Host, 'hostname' | 'noTls'>, did: string, o: RepoStatusOptions): Promise<string | undefined> {
  const url = `${hostBaseUrl(host)}/xrpc/com.atproto.sync.getRepoStatus?did=${encodeURIComponent(did)}`
  let res
  try {
    res = await safeGet(url, {
      allowInsecure: o.allowInsecureHosts,
      connectTimeoutMs: o.timeoutMs,
      timeoutMs: o.timeoutMs,
      maxBytes: 16 * 1024,
      headers: { 'user-agent': o.userAgent },
      ...(o.lookup === undefined ? {} : { lookup: o.lookup }),
    })
  } catch (err) {
    if (err instanceof SafeFetchError) return undefined
    throw err
  }
  if (res.status !== 200) return undefined
  let body: unknown
  try {
    body = JSON.parse(res.body.toString('utf8'))
  } catch {
    return undefined
  }
  const b = body as { did?: unknown; active?: unknown; status?: unknown }
  if (b.did !== did || typeof b.active !== 'boolean') return undefined
  if (b.active) return 'active'
  return typeof b.status === 'string' && b.status !== '' ? b.status : 'inactive'
}
