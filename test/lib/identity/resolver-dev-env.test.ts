// The resolver against a real PLC and PDS (@atproto/dev-env on localhost): an account made on
// the PDS resolves through --plc-host to the key the official resolver sees and to the PDS's
// host as host authority compares it.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { TestNetworkNoAppView } from '@atproto/dev-env'
import { IdResolver, getDidKeyFromMultibase } from '@atproto/identity'
import { IdentityResolver } from '../../../lib/identity/resolver.js'
import { setLogSink } from '../../../lib/logger.js'

setLogSink(() => {})
let network: TestNetworkNoAppView
let did: string
let accessJwt: string
let resolver: IdentityResolver
let plcRequests = 0

before(async () => {
  network = await TestNetworkNoAppView.create({ dbPostgresSchema: 'any' })
  const client = network.pds.getClient()
  const res = await client.com.atproto.server.createAccount({ email: 'bob@test.com', handle: 'bob.test', password: 'hunter2' })
  did = res.data.did
  accessJwt = res.data.accessJwt
  // --allow-insecure-hosts off: the operator's PLC is trusted although it is on loopback.
  resolver = new IdentityResolver({ plcHost: network.plc.url, allowInsecureHosts: false, metrics: { fetched: () => plcRequests++ } })
})

after(async () => {
  resolver?.close()
  await network?.close()
})

test('a dev-env account resolves to its signing key and PDS host', async () => {
  const r = await resolver.resolve(did)
  assert.ok(r.ok, JSON.stringify(r))
  const official = await new IdResolver({ plcUrl: network.plc.url }).did.resolveAtprotoData(did)
  const key = r.identity.signingKey
  assert.equal(getDidKeyFromMultibase({ type: key.type, publicKeyMultibase: key.multibase }), official.signingKey)
  assert.equal(r.identity.pdsEndpoint, network.pds.url)
  assert.deepEqual(r.identity.pds, { hostname: `localhost:${new URL(network.pds.url).port}`, noTls: true })
  assert.equal(r.identity.handle, 'bob.test')
})

test('a handle change is seen after purge (what an #identity event triggers)', async () => {
  const before = plcRequests
  await network.pds.getClient().com.atproto.identity.updateHandle(
    { handle: 'robert.test' },
    { headers: { authorization: `Bearer ${accessJwt}` }, encoding: 'application/json' },
  )
  const cached = await resolver.resolve(did)
  assert.ok(cached.ok && cached.identity.handle === 'bob.test')
  assert.equal(plcRequests, before)
  resolver.purge(did)
  const fresh = await resolver.resolve(did)
  assert.ok(fresh.ok && fresh.identity.handle === 'robert.test')
  assert.equal(plcRequests, before + 1)
})

test('an unknown did:plc is not_found at the real PLC', async () => {
  const r = await resolver.resolve('did:plc:aaaaaaaaaaaaaaaaaaaaaaaa')
  assert.equal(r.ok ? 'ok' : r.reason, 'not_found')
})
