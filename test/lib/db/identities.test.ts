import { test } from 'node:test'
import assert from 'node:assert/strict'
import { setLogSink } from '../../../lib/logger.js'
import { tempStateDbs } from '../../helpers/state-db.js'

setLogSink(() => {})
const make = tempStateDbs('identities')
const fresh = (now?: () => number) => make(now ? { now } : {})

const alice = 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa'
const bob = 'did:plc:bbbbbbbbbbbbbbbbbbbbbbbb'

test('identities: upsert in one transaction, read back, delete, prune', () => {
  const { state } = fresh()
  const rec = (did: string, fetchedAt: number) => ({
    did, keyType: 'Multikey', keyMultibase: 'zQ3shXjHeiBuRCKmM36cuYnm7YEMzhGnCmCyW92sRJ9pribSF', pdsEndpoint: 'https://bsky.social',
    handle: 'atproto.com', error: null, errorMessage: null, fetchedAt, expiresAt: fetchedAt + 1000,
  })
  state.identities.putMany([rec(alice, 1), rec(bob, 5)])
  state.identities.putMany([{ ...rec(bob, 6), keyType: null, keyMultibase: null, pdsEndpoint: null, handle: null, error: 'not_found', errorMessage: 'HTTP 404' }])
  assert.deepEqual(state.identities.get(alice), rec(alice, 1))
  assert.equal(state.identities.get(bob)?.error, 'not_found')
  assert.equal(state.identities.pruneFetchedBefore(3), 1)
  assert.equal(state.identities.get(alice), undefined)
  state.identities.delete(bob)
  assert.equal(state.identities.get(bob), undefined)
  state.close()
})
