// Test and bench helper: #commit frames exactly as a TypeScript PDS builds them, from commits
// written by the reference implementation (@atproto/repo 0.9.1): blocks = CAR of
// newBlocks ∪ relevantBlocks with the commit CID as root, ops with prev, prevData = the previous
// commit's data CID, since = the previous rev, rebase/tooBig false, blobs [], time; header and
// body encoded with @atproto/lex-cbor (the DAG-CBOR encoder @atproto/repo itself uses).
import { P256Keypair, Secp256k1Keypair } from '@atproto/crypto'
import type { Keypair } from '@atproto/crypto'
import { decode as cborDecode, encode as cborEncode } from '@atproto/lex-cbor'
import { cidForCbor } from '@atproto/lex-data'
import type { Cid } from '@atproto/lex-data'
import { BlockMap, MemoryBlockstore, Repo, WriteOpAction, blocksToCarFile } from '@atproto/repo'
import type { RecordWriteOp } from '@atproto/repo'

export type Curve = 'secp256k1' | 'p256'
type Nsid = RecordWriteOp['collection']

export const COLLECTIONS: Nsid[] = ['app.bsky.feed.post', 'app.bsky.feed.like', 'app.bsky.graph.follow', 'app.bsky.feed.repost']

// Deterministic PRNG (mulberry32): a failing case reproduces from its seed.
export function rng(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export interface WireOp {
  action: 'create' | 'update' | 'delete'
  path: string
  cid: Cid | null
  prev?: Cid
}

export interface CommitObject {
  did: string
  version: number
  data: Cid
  rev: string
  prev: Cid | null
  sig: Uint8Array
}

// One #commit as a PDS emits it, with what the reference knows about it.
export interface PdsCommit {
  did: string
  didKey: string
  curve: Curve
  seq: number
  rev: string
  since: string | null
  commitCid: Cid
  prevData: Cid
  data: Cid
  ops: WireOp[]
  car: Uint8Array
  blocks: BlockMap // newBlocks ∪ relevantBlocks
  commit: CommitObject
  time: string
  frame: Uint8Array
}

export function encodeFrame(header: Record<string, unknown>, body: Record<string, unknown>): Uint8Array {
  const h = cborEncode(header as never)
  const b = cborEncode(body as never)
  const out = new Uint8Array(h.length + b.length)
  out.set(h, 0)
  out.set(b, h.length)
  return out
}

// The #commit body fields, in the shape subscribeRepos defines (the encoder sorts the keys).
export function commitFrame(c: Omit<PdsCommit, 'frame' | 'blocks' | 'commit' | 'data' | 'didKey' | 'curve'>): Uint8Array {
  const body: Record<string, unknown> = {
    seq: c.seq,
    rebase: false,
    tooBig: false,
    repo: c.did,
    commit: c.commitCid,
    rev: c.rev,
    since: c.since,
    blocks: c.car,
    ops: c.ops.map((op) => (op.prev ? { action: op.action, path: op.path, cid: op.cid, prev: op.prev } : { action: op.action, path: op.path, cid: op.cid })),
    blobs: [],
    prevData: c.prevData,
    time: c.time,
  }
  return encodeFrame({ t: '#commit', op: 1 }, body)
}

// A commit block carrying another signature: its bytes and CID (the message and CAR root must
// then name this CID).
export async function resignedBlock(commit: CommitObject, sig: Uint8Array): Promise<{ cid: Cid; bytes: Uint8Array }> {
  const bytes = cborEncode({ ...commit, sig } as never)
  return { cid: await cidForCbor(bytes), bytes }
}

export function decodeCommit(bytes: Uint8Array): CommitObject {
  return cborDecode(bytes) as unknown as CommitObject
}

function record(collection: Nsid, rand: () => number, n: number): Record<string, unknown> {
  const createdAt = new Date(1714000000000 + n * 1000).toISOString()
  if (collection === 'app.bsky.feed.post') {
    const words = Math.floor(rand() * 40) + 3
    const text = Array.from({ length: words }, () => Math.floor(rand() * 1e6).toString(36)).join(' ')
    return { $type: collection, text, langs: ['en'], createdAt }
  }
  if (collection === 'app.bsky.graph.follow') return { $type: collection, subject: `did:plc:${n.toString(36).padStart(24, 'a')}`, createdAt }
  return {
    $type: collection,
    subject: { uri: `at://did:plc:${n.toString(36).padStart(24, 'b')}/app.bsky.feed.post/3l${n.toString(36).padStart(11, '2')}`, cid: 'bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm' },
    createdAt,
  }
}

let tidCounter = 0
// A TID-shaped, unique record key (sorts like real ones: clock-ordered).
export function rkey(rand: () => number): string {
  const alphabet = '234567abcdefghijklmnopqrstuvwxyz'
  let v = BigInt(1714000000000000 + ++tidCounter * 1000 + Math.floor(rand() * 1000)) << 10n
  v |= BigInt(Math.floor(rand() * 1024))
  let s = ''
  for (let i = 0; i < 13; i++) {
    s = alphabet[Number(v & 31n)] + s
    v >>= 5n
  }
  return s
}

// An account on a simulated PDS.
export class PdsRepo {
  private seq = 0
  private writes = 0

  private constructor(
    readonly did: string,
    readonly curve: Curve,
    readonly keypair: Keypair,
    private repo: Repo,
    readonly live: Map<string, Cid>,
    private readonly rand: () => number,
  ) {}

  static async create(did: string, curve: Curve, rand: () => number): Promise<PdsRepo> {
    const keypair = curve === 'secp256k1' ? await Secp256k1Keypair.create() : await P256Keypair.create()
    const repo = await Repo.create(new MemoryBlockstore(), did, keypair)
    return new PdsRepo(did, curve, keypair, repo, new Map(), rand)
  }

  get didKey(): string {
    return this.keypair.did()
  }

  // `size` random distinct-path writes against the current contents (creates when empty).
  plan(size: number): { write: RecordWriteOp; path: string }[] {
    const out: { write: RecordWriteOp; path: string }[] = []
    const used = new Set<string>()
    const existing = [...this.live.keys()]
    for (let i = 0; i < size; i++) {
      const kind = existing.length === 0 ? 0 : this.rand() < 0.6 ? 0 : this.rand() < 0.5 ? 1 : 2
      if (kind === 0) {
        const collection = COLLECTIONS[Math.floor(this.rand() * COLLECTIONS.length)]!
        const key = rkey(this.rand)
        const path = `${collection}/${key}`
        used.add(path)
        out.push({ write: { action: WriteOpAction.Create, collection, rkey: key, record: record(collection, this.rand, ++this.writes) as never }, path })
        continue
      }
      const path = existing.splice(Math.floor(this.rand() * existing.length), 1)[0]!
      if (used.has(path)) continue
      used.add(path)
      const [collection, key] = path.split('/') as [Nsid, string]
      out.push(kind === 1
        ? { write: { action: WriteOpAction.Update, collection, rkey: key, record: record(collection, this.rand, ++this.writes) as never }, path }
        : { write: { action: WriteOpAction.Delete, collection, rkey: key }, path })
    }
    return out
  }

  // Writes `planned` as one commit and returns the #commit a PDS would emit for it.
  async commit(planned: { write: RecordWriteOp; path: string }[]): Promise<PdsCommit> {
    const prevData = this.repo.commit.data
    const since = this.repo.commit.rev
    const prevs = planned.map((p) => this.live.get(p.path))
    const data = await this.repo.formatCommit(planned.map((p) => p.write), this.keypair)
    const blocks = new BlockMap()
    blocks.addMap(data.newBlocks)
    blocks.addMap(data.relevantBlocks)
    const car = await blocksToCarFile(data.cid, blocks)
    this.repo = await this.repo.applyCommit(data)
    const ops: WireOp[] = []
    for (let i = 0; i < planned.length; i++) {
      const { write, path } = planned[i]!
      const prev = prevs[i]
      if (write.action === WriteOpAction.Delete) {
        this.live.delete(path)
        ops.push({ action: 'delete', path, cid: null, prev: prev! })
        continue
      }
      const cid = (await this.repo.data.get(path))!
      this.live.set(path, cid)
      ops.push(write.action === WriteOpAction.Create ? { action: 'create', path, cid } : { action: 'update', path, cid, prev: prev! })
    }
    const commit = decodeCommit(blocks.get(data.cid)!)
    const c = {
      did: this.did, seq: ++this.seq, rev: data.rev, since, commitCid: data.cid, prevData, ops, car,
      time: new Date(1745000000000 + this.seq * 1000).toISOString(),
    }
    return { ...c, didKey: this.didKey, curve: this.curve, data: this.repo.commit.data, blocks, commit, frame: commitFrame(c) }
  }

  // Fills the repo with `n` creates (in commits of at most 200 ops).
  async seed(n: number): Promise<void> {
    while (n > 0) {
      const size = Math.min(n, 200)
      const planned = []
      for (let i = 0; i < size; i++) {
        const collection = COLLECTIONS[Math.floor(this.rand() * COLLECTIONS.length)]!
        const key = rkey(this.rand)
        planned.push({ write: { action: WriteOpAction.Create, collection, rkey: key, record: record(collection, this.rand, ++this.writes) as never } as RecordWriteOp, path: `${collection}/${key}` })
      }
      await this.commit(planned)
      n -= size
    }
  }
}

// Curve orders n (protocol.md §3.3).
const N = {
  secp256k1: 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n,
  p256: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
}

function toBig(b: Uint8Array): bigint {
  return BigInt('0x' + Buffer.from(b).toString('hex'))
}
function fromBig(v: bigint): Uint8Array {
  return Uint8Array.from(Buffer.from(v.toString(16).padStart(64, '0'), 'hex'))
}

// The high-S twin of a compact signature (s' = n - s): valid maths, refused by atproto.
export function highS(sig: Uint8Array, curve: 'secp256k1' | 'p256'): Uint8Array {
  const out = new Uint8Array(64)
  out.set(sig.subarray(0, 32), 0)
  out.set(fromBig(N[curve] - toBig(sig.subarray(32))), 32)
  return out
}

// The ASN.1 DER form of a compact signature (atproto allows compact only).
export function der(sig: Uint8Array): Uint8Array {
  const int = (b: Uint8Array): number[] => {
    let i = 0
    while (i < 31 && b[i] === 0) i++
    const v = [...b.subarray(i)]
    if (v[0]! & 0x80) v.unshift(0)
    return [0x02, v.length, ...v]
  }
  const body = [...int(sig.subarray(0, 32)), ...int(sig.subarray(32))]
  return Uint8Array.from([0x30, body.length, ...body])
}
