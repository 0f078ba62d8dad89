// GET com.atproto.sync.getRepoStatus?did=: the relay's view of an account. `status` combines
// the relay-local and the upstream status (local first, host-throttled shown as throttled),
// like indigo. One addition: an account whose last valid commit broke its chain (since or
// prevData not matching what the relay stored) is shown `active: false, status:
// desynchronized` until a consistent commit or a #sync; its events still pass (HACKING.md).
import type { Account, AccountStore } from '../db/accounts.js'
import { isAccountActive, publicAccountStatus } from '../db/accounts.js'
import type { Route } from '../http/router.js'
import { json, xrpcError } from '../http/xrpc.js'
import { isValidDid } from '../identity/did.js'

export interface RepoStatusBody {
  did: string
  active: boolean
  status?: string
  rev?: string
}

export function repoStatusBody(a: Account): RepoStatusBody {
  const out: RepoStatusBody = { did: a.did, active: isAccountActive(a) }
  if (!out.active) {
    const status = publicAccountStatus(a)
    if (status !== undefined) out.status = status
  } else if (a.desynchronizedSince !== null) {
    out.active = false
    out.status = 'desynchronized'
  }
  if (out.active && a.rev !== null) out.rev = a.rev
  return out
}

export function getRepoStatus(ctx: { accounts: Pick<AccountStore, 'get'> }): Route {
  return {
    method: 'GET',
    paths: ['/xrpc/com.atproto.sync.getRepoStatus'],
    handle: (req) => {
      const did = new URLSearchParams(req.query).get('did')
      if (did === null || did === '') return xrpcError(400, 'InvalidRequest', 'did is required')
      if (!isValidDid(did)) return xrpcError(400, 'InvalidRequest', `not a DID: ${did}`)
      const a = ctx.accounts.get(did)
      if (a === undefined) return xrpcError(404, 'RepoNotFound', `no account for ${did}`)
      return json(200, repoStatusBody(a))
    },
  }
}
