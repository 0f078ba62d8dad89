// The native MST inversion against the reference implementation: commits written by
// @atproto/repo (what a TypeScript PDS emits: blocks = newBlocks ∪ relevantBlocks, ops with
// prev, prevData = the previous commit's data) must invert to prevData, and the native tree
// must agree with @atproto/repo's MST root for the same contents.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Secp256k1Keypair } from '@atproto/crypto'
import { BlockMap, MemoryBlockstore, Repo, WriteOpAction, blocksToCarFile } from '@atproto/repo'
import type { RecordWriteOp } from '@atproto/repo'
import { loadNative } from '../../../lib/native.js'

interface WireOp {
  action: 'create' | 'update' | 'delete'
  path: string
  cid: string | null
  prev?: string | null
}

interface InvertResult {
  ok: boolean
  reason: string
  opIndex: number
  nodeError: string
  root?: string
  nodesLoaded: number
  nodesHashed: number
}

interface MstBinding {
  mstInvertCommit(car: Uint8Array, ops: WireOp[], data: string, prevData: string | null,
    options?: { requireRecordBlocks?: boolean }): InvertResult
  mstRoot(entries: [string, string][]): { ok: boolean, root?: string, reason?: string }
}

const mst = loadNative() as unknown as MstBinding

// Deterministic PRNG (mulberry32): failures must reproduce.
function rng(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

type Nsid = RecordWriteOp['collection']
const COLLECTIONS: Nsid[] = ['app.bsky.feed.post', 'app.bsky.feed.like', 'app.bsky.graph.follow']

function rkey(rand: () => number): string {
  const alphabet = '234567abcdefghijklmnopqrstuvwxyz'
  let s = ''
  for (let i = 0; i < 13; i++) s += alphabet[Math.floor(rand() * 32)]
  return s
}

interface Planned {
  write: RecordWriteOp
  path: string
  prev: string | null
}

// A batch of distinct-path writes against the current contents.
function plan(rand: () => number, live: Map<string, string>, size: number, n: number): Planned[] {
  const out: Planned[] = []
  const used = new Set<string>()
  const existing = [...live.keys()]
  for (let i = 0; i < size; i++) {
    const kind = existing.length === 0 ? 0 : Math.floor(rand() * 3)
    if (kind === 0) {
      const collection = COLLECTIONS[Math.floor(rand() * COLLECTIONS.length)]
      const key = rkey(rand)
      const path = `${collection}/${key}`
      if (live.has(path) || used.has(path)) continue
      used.add(path)
      const record = { $type: collection, text: `record ${n}.${i}`, createdAt: new Date(0).toISOString() }
      out.push({ write: { action: WriteOpAction.Create, collection, rkey: key, record }, path, prev: null })
    } else {
      const path = existing.splice(Math.floor(rand() * existing.length), 1)[0]
      if (used.has(path)) continue
      used.add(path)
      const [collection, key] = path.split('/') as [Nsid, string]
      if (kind === 1) {
        const record = { $type: collection, text: `updated ${n}.${i}`, createdAt: new Date(0).toISOString() }
        out.push({ write: { action: WriteOpAction.Update, collection, rkey: key, record }, path, prev: live.get(path)! })
      } else {
        out.push({ write: { action: WriteOpAction.Delete, collection, rkey: key }, path, prev: live.get(path)! })
      }
    }
  }
  return out
}

test('inverts every commit @atproto/repo writes, and only those', async () => {
  const rand = rng(7)
  const keypair = await Secp256k1Keypair.create()
  let repo = await Repo.create(new MemoryBlockstore(), 'did:example:alice', keypair)
  const live = new Map<string, string>()
  let nodesLoaded = 0
  let multiOp = 0
  for (let n = 0; n < 120; n++) {
    // Mostly small commits; some large ones; every 40th empties the repo.
    const size = n % 40 === 39 ? live.size : rand() < 0.15 ? 8 + Math.floor(rand() * 16) : 1 + Math.floor(rand() * 3)
    const batch = n % 40 === 39
      ? [...live.keys()].map((path): Planned => {
          const [collection, key] = path.split('/') as [Nsid, string]
          return { write: { action: WriteOpAction.Delete, collection, rkey: key }, path, prev: live.get(path)! }
        })
      : plan(rand, live, size, n)
    if (batch.length === 0) continue
    const prevData = repo.commit.data.toString()
    const commit = await repo.formatCommit(batch.map((p) => p.write), keypair)
    const blocks = new BlockMap()
    blocks.addMap(commit.newBlocks)
    blocks.addMap(commit.relevantBlocks)
    const car = await blocksToCarFile(commit.cid, blocks)
    repo = await repo.applyCommit(commit)
    const data = repo.commit.data.toString()

    const ops: WireOp[] = []
    for (const p of batch) {
      const cid = p.write.action === WriteOpAction.Delete ? null : (await repo.data.get(p.path))!.toString()
      if (cid === null) live.delete(p.path)
      else live.set(p.path, cid)
      ops.push(p.write.action === WriteOpAction.Create
        ? { action: 'create', path: p.path, cid }
        : { action: p.write.action, path: p.path, cid, prev: p.prev })
    }

    const r = mst.mstInvertCommit(car, ops, data, prevData, { requireRecordBlocks: true })
    assert.equal(r.reason, 'ok', `commit ${n} (${ops.length} ops): ${JSON.stringify(r)}`)
    assert.equal(r.root, prevData)
    nodesLoaded += r.nodesLoaded
    if (ops.length > 1) multiOp++

    // The same commit with an op left out, or against another prevData, does not invert.
    if (ops.length > 1) {
      const partial = mst.mstInvertCommit(car, ops.slice(1), data, prevData)
      assert.notEqual(partial.reason, 'ok', `commit ${n} with an op left out`)
    }
    assert.equal(mst.mstInvertCommit(car, ops, data, data === prevData ? null : data).ok, data === prevData)

    // The native tree of the same contents has @atproto/repo's root.
    const root = mst.mstRoot([...live.entries()])
    assert.equal(root.root, data, `root after commit ${n}`)
  }
  assert.ok(multiOp > 10 && nodesLoaded > 100)
})

test('reports malformed input as values', () => {
  const car = new Uint8Array([1, 2, 3])
  const data = 'bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm'
  const r = mst.mstInvertCommit(car, [], data, data) as InvertResult & { carError?: string }
  assert.equal(r.reason, 'bad_car')
  assert.equal(typeof r.carError, 'string')
  assert.deepEqual(mst.mstRoot([['not a key', data]]), { ok: false, reason: 'invalid_key' })
  assert.throws(() => mst.mstInvertCommit(car, [{ action: 'create', path: 'a/b', cid: 'not a cid' }], data, null),
    TypeError)
})
