// The policy under test with its real neighbours: a real SQLite state DB in a temp dir, the
// real IdentityResolver against a fake PLC over HTTP, the real KeyFeed and RelayMetrics. The
// native pipeline is stood in for by a recorder (decisions, key pushes, key versions the way
// native/verify/key_cache.h numbers them); the pipeline itself is tested natively and end to
// end by the acceptance suites.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openStateDb } from '../../../lib/db/database.js'
import type { StateDb } from '../../../lib/db/database.js'
import { IdentityResolver } from '../../../lib/identity/resolver.js'
import { RelayMetrics } from '../../../lib/metrics.js'
import { KeyFeed } from '../../../lib/relay/key-feed.js'
import type { Decision, EventSummary, KeyEntry, PipelineBatch } from '../../../lib/relay/pipeline-types.js'
import { Policy } from '../../../lib/relay/policy.js'
import type { PolicyDeps, PolicyOptions } from '../../../lib/relay/policy.js'
import { FakePlc } from '../../helpers/fake-plc.js'
import type { PlcIdentity } from '../../helpers/fake-plc.js'

export const keyA = 'zQ3shXjHeiBuRCKmM36cuYnm7YEMzhGnCmCyW92sRJ9pribSF'
export const keyB = 'zQ3shZc2QzApp2oymGvQbzP8eKheVshBHbU4ZYjeXqwSKEn6N'

export class RecordingPipeline {
  decisions: Decision[] = []
  // Like the native log writer: accepted and replaced events are "written" (a WrittenNotice
  // to the policy) on the next turn, or at once by flushWrites(); off for crash tests.
  autoWrite = true
  policy: Policy | undefined
  private unwritten: number[] = []
  private relaySeq = 0
  private writeScheduled = false
  setKeysCalls: KeyEntry[][] = []
  deleteKeysCalls: string[][] = []
  private readonly versions = new Map<string, number>()
  private nextVersion = 1

  decide(ds: Decision[]): void {
    this.decisions.push(...ds)
    for (const d of ds) if (d.action === 'accept' || d.action === 'replace') this.unwritten.push(d.id)
    if (this.autoWrite && !this.writeScheduled) {
      this.writeScheduled = true
      setImmediate(() => this.flushWrites())
    }
  }
  flushWrites(): void {
    this.writeScheduled = false
    if (this.unwritten.length === 0 || this.policy === undefined) return
    const ids = this.unwritten
    this.unwritten = []
    const seqs = ids.map(() => ++this.relaySeq)
    this.policy.handleBatch({ events: [], written: { ids, seqs, durableSeq: this.relaySeq } })
  }
  setKeys(entries: KeyEntry[]): void {
    this.setKeysCalls.push(entries)
    for (const e of entries) this.versions.set(e.did, this.nextVersion++)
  }
  deleteKeys(dids: string[]): void {
    this.deleteKeysCalls.push(dids)
    for (const d of dids) this.versions.delete(d)
  }
  keyVersions(dids: string[]): number[] {
    return dids.map((d) => this.versions.get(d) ?? 0)
  }
  version(did: string): number {
    return this.versions.get(did) ?? 0
  }
  decisionFor(id: number): Decision | undefined {
    return this.decisions.filter((d) => 'id' in d && d.id === id).at(-1)
  }
}

let seqCounter = 1000
let idCounter = 1

export function did(i: number): string {
  const b32 = [...i.toString(32).padStart(4, '0')].map((c) => 'abcdefghijklmnopqrstuvwxyz234567'[parseInt(c, 32)] as string).join('')
  return `did:plc:${'p'.repeat(20)}${b32}`
}

// TIDs for tests: 13 base32-sortable chars; a larger n sorts later.
export function rev(n: number): string {
  const digits = [...n.toString(32).padStart(11, '0')].map((c) => '234567abcdefghijklmnopqrstuvwxyz'[parseInt(c, 32)] as string)
  return `3l${digits.join('')}`
}

export function summary(fields: Partial<EventSummary> & Pick<EventSummary, 'type' | 'hostId'>): EventSummary {
  return {
    id: idCounter++,
    upstreamSeq: seqCounter++,
    did: '',
    verdict: 'ok',
    keyVersion: 1,
    time: '2025-01-01T00:00:00.000Z',
    frameBytes: 100,
    ...fields,
  }
}

// A valid commit following `prev` (rev n-1, data d{n-1}).
export function commit(hostId: number, d: string, n: number, extra: Partial<EventSummary> = {}): EventSummary {
  return summary({
    type: 'commit', hostId, did: d, rev: rev(n), since: n > 1 ? rev(n - 1) : null, prevData: `bafydata${n - 1}`,
    dataCid: `bafydata${n}`, commitCid: `bafycommit${n}`, opCount: 1, ...extra,
  })
}

export interface Harness {
  state: StateDb
  plc: FakePlc
  resolver: IdentityResolver
  pipeline: RecordingPipeline
  metrics: RelayMetrics
  policy: Policy
  upstreamFrames: EventSummary[]
  hostA: number
  hostB: number
  hostnameA: string
  hostnameB: string
  run(events: EventSummary[]): Decision[]
  identity(d: string, host: 'A' | 'B', key?: string): PlcIdentity
  close(): Promise<void>
}

const dir = mkdtempSync(join(tmpdir(), 'ringlay-policy-'))
let dbCount = 0

export async function harness(opts: Partial<PolicyOptions> = {}, deps: Pick<PolicyDeps, 'repoStatus'> = {}): Promise<Harness> {
  const state = openStateDb({ dataDir: join(dir, `db${dbCount++}`) })
  const plc = await FakePlc.start()
  const pipeline = new RecordingPipeline()
  const keys = new KeyFeed(pipeline)
  const metrics = new RelayMetrics()
  const resolver = new IdentityResolver({ plcHost: plc.url, allowInsecureHosts: true, store: state.identities, onUpdate: keys.onUpdate, refreshMinIntervalMs: 0 })
  const upstreamFrames: EventSummary[] = []
  // Account changes reach SQLite with each written batch, so tests can read the store at once.
  const policy = new Policy({ state, resolver, pipeline, keys, metrics, onUpstreamFrame: (e) => upstreamFrames.push(e), ...deps }, { stateFlushMs: 0, ...opts })
  pipeline.policy = policy
  const hostnameA = 'localhost:1111'
  const hostnameB = 'localhost:2222'
  const hostA = state.hosts.ensure({ hostname: hostnameA, noTls: true, trusted: false, accountLimit: 100 }).host.id
  const hostB = state.hosts.ensure({ hostname: hostnameB, noTls: true, trusted: false, accountLimit: 100 }).host.id
  return {
    state, plc, resolver, pipeline, metrics, policy, upstreamFrames, hostA, hostB, hostnameA, hostnameB,
    run(events) {
      const before = pipeline.decisions.length
      const batch: PipelineBatch = { events, written: null }
      policy.handleBatch(batch)
      if (pipeline.autoWrite) pipeline.flushWrites()
      return pipeline.decisions.slice(before)
    },
    identity(d, host, key = keyA) {
      return { did: d, handle: `h${d.slice(-4)}.test`, key: { type: 'Multikey', publicKeyMultibase: key }, pdsEndpoint: `http://${host === 'A' ? hostnameA : hostnameB}` }
    },
    async close() {
      policy.close()
      resolver.close()
      state.close()
      await plc.close()
    },
  }
}

export async function until(cond: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

export async function counter(metrics: RelayMetrics, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = metrics.registry.getSingleMetric(name)
  if (m === undefined) throw new Error(`no metric ${name}`)
  const { values } = await m.get()
  return values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((s, v) => s + v.value, 0)
}
