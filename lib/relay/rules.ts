// The decision for one upstream event, in the order of protocol.md §3.1 (3.5a for what is a
// drop and what passes): connection checks, account and host authority, account active, stale
// rev, the native verdict (size, CAR, commit, future rev, signature, inversion), then the
// Sync 1.1 state rules (missing prevData, chain breaks). Native validation already ran; this
// layer adds everything that needs stored state or identity.
//
// Three kinds of answer:
//   decide  accept / drop(reason) / replace(#account with the combined status)
//   retry   validate again: the key cache now holds a key this event was not checked with
//   wait    an identity answer is needed first (resolve, re-resolve after purge, or a forced
//           refresh after a signature failure); the caller holds the account's events
//
// State changes: account creation and migration are written as decisions are made (inside the
// caller's per-batch transaction); rev/data and upstream status wait until the event is in the
// log (lib/relay/pending-state.ts), while the next decisions already see them.
import type { Account } from '../db/accounts.js'
import { isAccountActive, publicAccountStatus } from '../db/accounts.js'
import type { ResolveResult } from '../identity/resolver.js'
import type { Decision, EventSummary } from './pipeline-types.js'
import type { KeyFeed } from './key-feed.js'
import { isTransientFailure } from './key-feed.js'
import type { PendingState } from './pending-state.js'

// lookup/refresh/force: identity answers; status: ask the PDS whether the account is active.
export type Job = 'lookup' | 'refresh' | 'force' | 'status'

export type Outcome =
  | { kind: 'decide'; decision: Decision }
  | { kind: 'retry'; why: 'no_key' | 'signature' }
  | { kind: 'wait'; job: Job }

export type Retry = Extract<Outcome, { kind: 'retry' }>

// One event as the policy tracks it while its account's events are held.
export interface Item {
  e: EventSummary
  // A retry was sent; the re-validated summary has not come back yet.
  awaiting: boolean
  keyRetries: number
  sigRetried: boolean
  // The forced refresh for this item's signature failure ran; keyChanged: it found a new key.
  forced: boolean
  keyChanged: boolean
  heldSince: number
}

// What a finished identity job left for the events of one account.
export interface Resolved {
  result: ResolveResult
  at: number
}

export interface RulesOptions {
  lenient: boolean
  maxKeyRetries: number
}

export interface RulesDeps {
  // Accounts with the changes of accepted, not yet written events on top.
  accounts: PendingState
  hostname: (hostId: number) => string | undefined
  peek: (did: string) => ResolveResult | undefined
  keys: KeyFeed
  // The key cache's current version for a DID; undefined when the pipeline cannot tell.
  keyVersion: (did: string) => number | undefined
  // #identity: purge the cached identity (and native key) and re-resolve in the background.
  refreshIdentity: (did: string) => void
  // This DID's document was fetched for the policy within authorityRecheckMs.
  recentlyFetched: (did: string) => boolean
  // The account is inactive only upstream and the PDS was not asked lately.
  statusCheckDue: (a: Account) => boolean
  counters: { chainBreak(): void; accountCreated(status: string): void; migrated(): void }
  now: () => number
}

// Verdicts that a newer key could change; everything else native reports is final.
const signatureReasons: ReadonlySet<string> = new Set([
  'key_unusable', 'der_signature', 'bad_signature_length', 'r_out_of_range', 's_out_of_range', 'high_s', 'bad_signature',
])

export function isKeyVerdict(verdict: string): boolean {
  return verdict === 'no_key' || signatureReasons.has(verdict)
}

const drop = (e: EventSummary, reason: string): Outcome => ({ kind: 'decide', decision: { id: e.id, action: 'drop', reason } })
const accept = (e: EventSummary): Outcome => ({ kind: 'decide', decision: { id: e.id, action: 'accept' } })
const wait = (job: Job): Outcome => ({ kind: 'wait', job })

function fetchedAt(r: ResolveResult): number {
  return r.ok ? r.identity.fetchedAt : r.fetchedAt
}

export class EventRules {
  constructor(
    private readonly d: RulesDeps,
    private readonly o: RulesOptions,
  ) {}

  evaluate(it: Item, resolved: Resolved | undefined): Outcome {
    const e = it.e
    if (e.verdict === 'seq_out_of_order') return drop(e, 'seq_out_of_order')
    switch (e.type) {
      case 'info':
        return drop(e, 'upstream_info')
      case 'error':
        return drop(e, 'upstream_error')
      case 'unknown':
        return drop(e, e.verdict === 'ok' ? 'unknown_type' : e.verdict)
      case 'identity':
        return this.identity(e)
      default:
        return this.repoEvent(it, resolved)
    }
  }

  // Only key-related retries may be sent while an earlier event of the account awaits its own
  // retry (nothing may be decided ahead of it): is this one of them?
  retryable(it: Item, resolved: Resolved | undefined): Retry | undefined {
    const e = it.e
    if (e.verdict === 'no_key') {
      const r = resolved?.result ?? this.d.peek(e.did)
      if (r === undefined || !r.ok || it.keyRetries >= this.o.maxKeyRetries) return undefined
      this.d.keys.push(e.did, r)
      return { kind: 'retry', why: 'no_key' }
    }
    if (signatureReasons.has(e.verdict) && !it.sigRetried && this.keyMoved(e)) return { kind: 'retry', why: 'signature' }
    return undefined
  }

  // Passes from any host (identity changes must reach consumers even mid-migration); the
  // cached identity and native key are purged and re-resolved in the background.
  private identity(e: EventSummary): Outcome {
    if (e.verdict !== 'ok') return drop(e, e.verdict)
    if (e.did !== '') this.d.refreshIdentity(e.did)
    return accept(e)
  }

  private repoEvent(it: Item, resolved: Resolved | undefined): Outcome {
    const e = it.e
    if (e.did === '') return drop(e, e.verdict === 'ok' ? 'missing_did' : e.verdict)
    let a = this.d.accounts.get(e.did)
    if (a === undefined || a.hostId !== e.hostId) {
      // Nothing an identity answer could change: do not resolve on behalf of garbage.
      if (e.verdict !== 'ok' && !isKeyVerdict(e.verdict)) return drop(e, e.verdict)
      const bound = this.authority(e, a, resolved)
      if ('kind' in bound) return bound
      a = bound
    }
    if (e.type !== 'account') {
      if (a.status === 'host-throttled') return drop(e, 'host_throttled')
      if (!isAccountActive(a)) return this.d.statusCheckDue(a) ? wait('status') : drop(e, 'inactive_account')
      if (e.rev !== undefined && a.rev !== null && (e.rev < a.rev || (e.rev === a.rev && e.type === 'commit'))) return drop(e, 'stale_rev')
    }
    if (e.verdict !== 'ok') return this.badVerdict(it, resolved)
    if (e.type === 'account') return this.account(e, a)
    if (e.type === 'sync') return this.sync(e, a)
    return this.commit(e, a)
  }

  // protocol.md §3.6: an unknown DID joins the host its DID document names; an account bound
  // elsewhere moves only when a fresh document names this host.
  private authority(e: EventSummary, a: Account | undefined, resolved: Resolved | undefined): Account | Outcome {
    const r = resolved?.result ?? this.d.peek(e.did)
    if (r === undefined) return wait(a === undefined ? 'lookup' : 'refresh')
    if (!r.ok) {
      if (isTransientFailure(r)) return wait('lookup')
      return drop(e, `identity_${r.reason}`)
    }
    if (r.identity.pds.hostname !== this.d.hostname(e.hostId)) {
      // A cached document may predate a migration: purge and fetch it once before refusing
      // (then, for authorityRecheckMs, that answer stands).
      const fresh = resolved !== undefined || this.d.recentlyFetched(e.did)
      return fresh ? drop(e, 'wrong_host') : wait('refresh')
    }
    if (a === undefined) {
      const created = this.d.accounts.create(e.did, e.hostId)
      this.d.counters.accountCreated(created.status)
      return created
    }
    this.d.counters.migrated()
    return this.d.accounts.moveToHost(e.did, e.hostId)
  }

  private badVerdict(it: Item, resolved: Resolved | undefined): Outcome {
    const e = it.e
    if (!isKeyVerdict(e.verdict)) return drop(e, e.verdict)
    const r = resolved?.result ?? this.d.peek(e.did)
    if (r !== undefined && !r.ok && !isTransientFailure(r)) return drop(e, `identity_${r.reason}`)
    if (e.verdict === 'no_key') {
      if (r === undefined || !r.ok) return wait('lookup')
      if (it.keyRetries >= this.o.maxKeyRetries) return drop(e, 'no_key')
      this.d.keys.push(e.did, r)
      return { kind: 'retry', why: 'no_key' }
    }
    // A signature failure: refresh the identity once (the key may have rotated) and validate
    // again only with a different key (protocol.md §3.3).
    if (it.sigRetried) return drop(e, 'signature')
    if (it.forced) return it.keyChanged || this.newerWithoutVersions(it, r) ? { kind: 'retry', why: 'signature' } : drop(e, 'signature')
    if (this.keyMoved(e)) return { kind: 'retry', why: 'signature' }
    return wait('force')
  }

  // A pipeline without keyVersions cannot say which key an event was checked with; then an
  // identity fetched after the event arrived earns it one retry.
  private newerWithoutVersions(it: Item, r: ResolveResult | undefined): boolean {
    return this.d.keyVersion(it.e.did) === undefined && r !== undefined && fetchedAt(r) >= it.heldSince
  }

  // The key cache holds a newer key than the one this event was checked with.
  private keyMoved(e: EventSummary): boolean {
    const now = this.d.keyVersion(e.did)
    return now !== undefined && now > e.keyVersion
  }

  // Updates the upstream status and re-emits #account with the combined status (local and
  // upstream both active; `status` only when inactive), as indigo does.
  private account(e: EventSummary, before: Account): Outcome {
    const upstream = e.active === true ? 'active' : (e.status ?? 'inactive')
    const a = this.d.accounts.upstreamStatus(e.id, before, upstream)
    const status = publicAccountStatus(a)
    const frame = { type: 'account' as const, did: e.did, active: isAccountActive(a), time: e.time, ...(status === undefined ? {} : { status }) }
    return { kind: 'decide', decision: { id: e.id, action: 'replace', frame } }
  }

  // Rev-ordered: an older rev is stale_rev (above). The same rev as stored passes: PDSes send a
  // #sync naming the commit they just emitted (account creation, reactivation), and consumers
  // expect it. The state is authoritative and clears desynchronized.
  private sync(e: EventSummary, a: Account): Outcome {
    if (e.rev === undefined || e.commitCid === undefined || e.dataCid === undefined) return drop(e, 'missing_field')
    this.d.accounts.sync(e.id, a, { rev: e.rev, commitCid: e.commitCid, dataCid: e.dataCid })
    return accept(e)
  }

  private commit(e: EventSummary, a: Account): Outcome {
    if (e.rev === undefined || e.commitCid === undefined || e.dataCid === undefined) return drop(e, 'missing_field')
    const known = a.rev !== null
    // Strict Sync 1.1: without prevData a commit cannot be checked against known state. An
    // account's first commit is exempt (§3.1 item 11).
    if (known && e.prevData === undefined && !this.o.lenient) return drop(e, 'missing_prev_data')
    // A chain break (3.5): valid in itself but not following the stored state. Passed on, the
    // new state stored, and the account shown desynchronized until a consistent commit or #sync.
    const chainBreak = known && (e.since !== a.rev || (e.prevData !== undefined && a.dataCid !== null && e.prevData !== a.dataCid))
    if (chainBreak) this.d.counters.chainBreak()
    this.d.accounts.commit(e.id, a, { rev: e.rev, commitCid: e.commitCid, dataCid: e.dataCid }, chainBreak)
    return accept(e)
  }
}
