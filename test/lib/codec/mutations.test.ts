// Mutation classes: a valid #commit written by @atproto/repo, changed in one way at a time,
// must be rejected with that change's own reason (the unchanged frame is the control).
// "Bad signature" and "wrong key" share `bad_signature`: a signature that does not verify
// under the account's key is all either can show.
import { before, test } from 'node:test'
import assert from 'node:assert/strict'
import { Secp256k1Keypair } from '@atproto/crypto'
import { encode as cborEncode } from '@atproto/lex-cbor'
import { cidForCbor } from '@atproto/lex-data'
import type { Cid } from '@atproto/lex-data'
import { BlockMap, blocksToCarFile } from '@atproto/repo'
import { validateSync } from '../../../lib/codec/validate.js'
import type { ValidateOptions, ValidateResult } from '../../../lib/codec/validate.js'
import { PdsRepo, commitFrame, decodeCommit, der, highS, resignedBlock, rng } from './pds-frames.js'
import type { PdsCommit, WireOp } from './pds-frames.js'

let c: PdsCommit
let options: ValidateOptions

before(async () => {
  const repo = await PdsRepo.create('did:plc:mutations00000000000000', 'secp256k1', rng(99))
  await repo.seed(300)
  const planned = repo.plan(3)
  c = await repo.commit(planned)
  options = { keys: [{ did: c.did, key: c.didKey }], nowMs: Date.now() }
})

interface Change {
  blocks?: BlockMap
  root?: Cid
  commitCid?: Cid
  ops?: WireOp[]
  prevData?: Cid
}

async function frameWith(change: Change): Promise<Uint8Array> {
  const commitCid = change.commitCid ?? c.commitCid
  const car = change.blocks || change.root ? await blocksToCarFile(change.root ?? commitCid, change.blocks ?? c.blocks) : c.car
  return commitFrame({
    did: c.did, seq: c.seq, rev: c.rev, since: c.since, commitCid, car,
    ops: change.ops ?? c.ops, prevData: change.prevData ?? c.prevData, time: c.time,
  })
}

// The blocks with the commit block replaced by `bytes` (any bytes), named by their CID.
async function withCommitBytes(bytes: Uint8Array): Promise<Change> {
  const cid = await cidForCbor(bytes)
  const blocks = new BlockMap(c.blocks)
  blocks.delete(c.commitCid)
  blocks.set(cid, bytes)
  return { blocks, commitCid: cid }
}

async function withSig(sig: Uint8Array): Promise<Change> {
  return withCommitBytes((await resignedBlock(c.commit, sig)).bytes)
}

function check(frame: Uint8Array, reason: string, detail?: string, opts: ValidateOptions = options): ValidateResult {
  const [r] = validateSync([frame], opts)
  assert.ok(r)
  assert.equal(r.ok ? 'ok' : r.reason, reason, JSON.stringify(r))
  if (detail !== undefined && !r.ok) assert.equal(r.detail, detail)
  return r
}

test('the unchanged frame is valid', () => {
  const r = check(c.frame, 'ok')
  assert.equal(r.commit, c.commitCid.toString())
  assert.equal(r.data, c.data.toString())
  assert.equal(r.prevData, c.prevData.toString())
})

test('signature mutations', async () => {
  const flipped = Uint8Array.from(c.commit.sig)
  flipped[40]! ^= 0x01
  check(await frameWith(await withSig(flipped)), 'bad_signature')
  check(await frameWith(await withSig(highS(c.commit.sig, 'secp256k1'))), 'high_s')
  check(await frameWith(await withSig(der(c.commit.sig))), 'der_signature')
  const stranger = await Secp256k1Keypair.create()
  check(c.frame, 'bad_signature', undefined, { ...options, keys: [{ did: c.did, key: stranger.did() }] })
})

test('inversion mutations', async () => {
  const nodes: Cid[] = []
  c.blocks.forEach((bytes, cid) => {
    const v = decodeCommit(bytes) as unknown as Record<string, unknown>
    if ('e' in v && 'l' in v) nodes.push(cid)
  })
  const root = new BlockMap(c.blocks)
  root.delete(c.data) // the new tree's root node: nothing can be read without it
  check(await frameWith({ blocks: root }), 'missing_block')

  const untouched = c.ops[0]!.path.split('/')[0] + '/3zzzzzzzzzzzz'
  check(await frameWith({ ops: [...c.ops, { action: 'create', path: untouched, cid: c.ops.find((o) => o.cid)!.cid }] }), 'op_value_mismatch')
  check(await frameWith({ ops: c.ops.slice(1) }), 'inversion_mismatch')
  check(await frameWith({ prevData: c.data }), 'inversion_mismatch')
  assert.ok(nodes.length > 1)
})

test('encoding mutations', async () => {
  // The commit block's keys in another order, CID recomputed: only canonicality is wrong.
  const entries = Object.entries(c.commit).sort(([a], [b]) => (a < b ? -1 : 1)) // plain bytewise: "data" first
  const parts = entries.map(([k, v]) => cborEncode({ [k]: v } as never).subarray(1)) // strip the one-entry map head
  const reordered = Uint8Array.from([0xa0 | entries.length, ...parts.flatMap((p) => [...p])])
  check(await frameWith(await withCommitBytes(reordered)), 'bad_commit_cbor', 'non_canonical_key_order')

  // Trailing bytes after the commit block's item.
  const commitBytes = c.blocks.get(c.commitCid)!
  check(await frameWith(await withCommitBytes(Uint8Array.from([...commitBytes, 0x00]))), 'bad_commit_cbor', 'trailing_bytes')

  // Trailing bytes after the body.
  check(Uint8Array.from([...c.frame, 0xf6]), 'bad_body_cbor', 'trailing_bytes')

  // A record block whose bytes no longer hash to its CID.
  const blocks = new BlockMap(c.blocks)
  const recordCid = c.ops.find((o) => o.cid)!.cid!
  const bytes = Uint8Array.from(blocks.get(recordCid)!)
  bytes[bytes.length - 1]! ^= 0x01
  blocks.set(recordCid, bytes)
  check(await frameWith({ blocks }), 'bad_car', 'hash_mismatch')

  // The CAR's root is not the message's commit.
  check(await frameWith({ root: c.data }), 'car_root_mismatch')
})
