// Identity glue: what the resolver learns reaches the native key cache the verify workers
// read. Wired as the resolver's `onUpdate` hook, and called directly by the policy when it
// takes an answer from the resolver's cache (a cache hit fires no hook, e.g. after a restart
// when the answer comes from SQLite and the native cache starts empty).
//
// Answers are queued and pushed in one crossing (`flush`): the policy flushes before it
// returns `retry` decisions, so a retried event is validated with the key it was retried for.
//   usable key                       → setKeys(key)
//   final failure (no such DID, no key or PDS in the document, …)
//                                    → setKeys(null): workers answer key_unusable instead of
//                                      no_key, so they stop asking and the policy drops
//   transient failure (timeout, …)   → nothing: the key stays missing, events stay held
//   purged                           → deleteKeys
import type { ResolveFailureReason, ResolveResult } from '../identity/resolver.js'
import type { KeyEntry, RelayPipeline } from './pipeline-types.js'

const transient: ReadonlySet<ResolveFailureReason> = new Set(['timeout', 'http_error', 'network_error'])

export function isTransientFailure(r: ResolveResult): boolean {
  return !r.ok && transient.has(r.reason)
}

export class KeyFeed {
  private sets = new Map<string, KeyEntry>()
  private deletes = new Set<string>()
  private scheduled = false

  constructor(private readonly pipeline: Pick<RelayPipeline, 'setKeys' | 'deleteKeys'>) {}

  // The resolver's onUpdate hook (undefined: purged).
  readonly onUpdate = (did: string, result: ResolveResult | undefined): void => {
    if (result === undefined) this.remove(did)
    else this.push(did, result)
  }

  push(did: string, result: ResolveResult): void {
    if (isTransientFailure(result)) return
    const key = result.ok ? { multibase: result.identity.signingKey.multibase, type: result.identity.signingKey.type } : null
    this.deletes.delete(did)
    this.sets.set(did, { did, key })
    this.schedule()
  }

  remove(did: string): void {
    this.sets.delete(did)
    this.deletes.add(did)
    this.schedule()
  }

  // Deletes first: a DID purged and then resolved again in the same turn ends up with its key.
  flush(): void {
    this.scheduled = false
    if (this.deletes.size > 0) {
      const dids = [...this.deletes]
      this.deletes.clear()
      this.pipeline.deleteKeys(dids)
    }
    if (this.sets.size > 0) {
      const entries = [...this.sets.values()]
      this.sets.clear()
      this.pipeline.setKeys(entries)
    }
  }

  // Updates that arrive outside a batch (background re-resolves) go down on the next turn.
  private schedule(): void {
    if (this.scheduled) return
    this.scheduled = true
    setImmediate(() => {
      if (this.scheduled) this.flush()
    })
  }
}
