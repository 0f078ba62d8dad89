// getRepoStatus over real SQLite state: unknown and malformed DIDs, active with rev, inactive
// (upstream and local statuses, combined like indigo), and desynchronized after a chain break.
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openStateDb } from '../../../lib/db/database.js'
import { setLogSink } from '../../../lib/logger.js'
import { getRepoStatus } from '../../../lib/routes/com.atproto.sync.getRepoStatus.js'
import type { HttpResponse } from '../../../lib/transport/types.js'

setLogSink(() => {})
const dir = mkdtempSync(join(tmpdir(), 'ringlay-repo-status-'))
const state = openStateDb({ dataDir: dir })
after(() => {
  state.close()
  rmSync(dir, { recursive: true, force: true })
})
const route = getRepoStatus({ accounts: state.accounts })
const hostId = state.hosts.ensure({ hostname: 'pds.example.com', noTls: false, trusted: false, accountLimit: 100 }).host.id
const repo = (n: number) => ({ rev: `3l${String(n).padStart(11, 'a')}`, commitCid: `bafycommit${n}`, dataCid: `bafydata${n}` })

async function ask(query: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = (await route.handle({ method: 'GET', path: route.paths[0] as string, query, headers: {}, body: Buffer.alloc(0), remoteAddress: '127.0.0.1' })) as HttpResponse
  return { status: res.status, body: JSON.parse(String(res.body)) as Record<string, unknown> }
}

test('bad requests and unknown accounts', async () => {
  assert.deepEqual(await ask(''), { status: 400, body: { error: 'InvalidRequest', message: 'did is required' } })
  assert.equal((await ask('did=alice')).status, 400)
  assert.deepEqual((await ask('did=did:plc:aaaaaaaaaaaaaaaaaaaaaaaa')).body.error, 'RepoNotFound')
})

test('active with rev; inactive statuses, local first', async () => {
  const did = 'did:plc:bbbbbbbbbbbbbbbbbbbbbbbb'
  state.accounts.create(did, hostId)
  state.accounts.recordCommit(did, repo(1), false)
  assert.deepEqual(await ask(`did=${did}`), { status: 200, body: { did, active: true, rev: repo(1).rev } })
  state.accounts.setUpstreamStatus(did, 'deactivated')
  assert.deepEqual((await ask(`did=${encodeURIComponent(did)}`)).body, { did, active: false, status: 'deactivated' })
  state.accounts.setLocalStatus(did, 'takendown')
  assert.deepEqual((await ask(`did=${did}`)).body, { did, active: false, status: 'takendown' })
  state.accounts.setLocalStatus(did, 'host-throttled')
  assert.deepEqual((await ask(`did=${did}`)).body, { did, active: false, status: 'throttled' })
})

test('a chain break shows desynchronized until a consistent commit', async () => {
  const did = 'did:plc:cccccccccccccccccccccccc'
  state.accounts.create(did, hostId)
  state.accounts.recordCommit(did, repo(1), false)
  state.accounts.recordCommit(did, repo(3), true)
  assert.deepEqual((await ask(`did=${did}`)).body, { did, active: false, status: 'desynchronized' })
  state.accounts.recordCommit(did, repo(4), false)
  assert.deepEqual((await ask(`did=${did}`)).body, { did, active: true, rev: repo(4).rev })
})
