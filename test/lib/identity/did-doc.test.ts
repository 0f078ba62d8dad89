import { test } from 'node:test'
import assert from 'node:assert/strict'
import { identityFromFields, parseDidDocument } from '../../../lib/identity/did-doc.js'
import { atprotoFixtures, readJson } from './shared-fixtures.js'

const fixtures = atprotoFixtures()
const plcDid = 'did:plc:ewvi7nxzyoun6zhxrhs64oiz'

test('Multikey document (did_plc_doc.json)', { skip: fixtures === undefined }, () => {
  const r = parseDidDocument(plcDid, readJson(fixtures!, 'indigo-captures/did_plc_doc.json'))
  assert.deepEqual(r, {
    ok: true,
    identity: {
      did: plcDid,
      signingKey: { type: 'Multikey', multibase: 'zQ3shXjHeiBuRCKmM36cuYnm7YEMzhGnCmCyW92sRJ9pribSF' },
      pdsEndpoint: 'https://bsky.social',
      pds: { hostname: 'bsky.social', noTls: false },
      handle: 'atproto.com',
    },
  })
})

test('legacy key type, relative #atproto id (did_plc_doc_legacy.json)', { skip: fixtures === undefined }, () => {
  const r = parseDidDocument(plcDid, readJson(fixtures!, 'indigo-captures/did_plc_doc_legacy.json'))
  assert.ok(r.ok)
  assert.deepEqual(r.identity.signingKey, {
    type: 'EcdsaSecp256k1VerificationKey2019',
    multibase: 'zQYEBzXeuTM9UR3rfvNag6L3RNAs5pQZyYPsomTsgQhsxLdEgCrPTLgFna8yqCnxPpNT7DBk6Ym3dgPKNu86vt9GR',
  })
  assert.equal(r.identity.pds.hostname, 'bsky.social')
})

test('did:web document without an atproto key or PDS (did_web_doc.json)', { skip: fixtures === undefined }, () => {
  const doc = readJson(fixtures!, 'indigo-captures/did_web_doc.json') as Record<string, unknown>
  const r = parseDidDocument('did:web:discover.bsky.social', doc)
  assert.equal(r.ok, false)
  assert.equal(!r.ok && r.reason, 'no_key')
  // With a key but still no #atproto_pds service:
  const plc = readJson(fixtures!, 'indigo-captures/did_plc_doc.json') as Record<string, unknown>
  const withKey = { ...doc, verificationMethod: (plc.verificationMethod as object[]).map((vm) => ({ ...vm, controller: 'did:web:discover.bsky.social', id: '#atproto' })) }
  const r2 = parseDidDocument('did:web:discover.bsky.social', withKey)
  assert.equal(!r2.ok && r2.reason, 'no_pds')
})

test('the document id must be the DID; shapes are checked', { skip: fixtures === undefined }, () => {
  const doc = readJson(fixtures!, 'indigo-captures/did_plc_doc.json') as Record<string, unknown>
  const reason = (d: unknown, did = plcDid) => {
    const r = parseDidDocument(did, d)
    return r.ok ? 'ok' : r.reason
  }
  assert.equal(reason(doc, 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa'), 'bad_document')
  assert.equal(reason(null), 'bad_document')
  assert.equal(reason([doc]), 'bad_document')
  assert.equal(reason({ ...doc, service: 'x' }), 'bad_document')
  const vm = (doc.verificationMethod as Record<string, unknown>[])[0]!
  const svc = (doc.service as Record<string, unknown>[])[0]!
  assert.equal(reason({ ...doc, verificationMethod: [{ ...vm, controller: 'did:plc:someoneelse' }] }), 'no_key')
  assert.equal(reason({ ...doc, verificationMethod: [{ ...vm, id: 'did:plc:someoneelse#atproto' }] }), 'no_key')
  assert.equal(reason({ ...doc, verificationMethod: [{ ...vm, type: 'JsonWebKey2020' }] }), 'no_key')
  assert.equal(reason({ ...doc, verificationMethod: [{ ...vm, publicKeyMultibase: 'uAAAA' }] }), 'no_key')
  assert.equal(reason({ ...doc, verificationMethod: [{ ...vm, type: 'EcdsaSecp256r1VerificationKey2019' }] }), 'ok')
  assert.equal(reason({ ...doc, service: [{ ...svc, type: 'BskyFeedGenerator' }] }), 'no_pds')
  assert.equal(reason({ ...doc, service: [{ ...svc, serviceEndpoint: 'https://10.0.0.1' }] }), 'no_pds')
  assert.equal(reason({ ...doc, service: [{ ...svc, serviceEndpoint: { uri: 'https://x.com' } }] }), 'no_pds')
  assert.equal(reason({ ...doc, service: [{ ...svc, id: `${plcDid}#atproto_pds`, serviceEndpoint: 'http://localhost:2583' }] }), 'ok')
  // Handle: first at:// entry; an invalid one means no handle.
  const handle = (aka: unknown) => {
    const r = parseDidDocument(plcDid, { ...doc, alsoKnownAs: aka })
    return r.ok ? r.identity.handle : 'failed'
  }
  assert.equal(handle(['https://x.com', 'at://Alice.Example.COM', 'at://b.com']), 'alice.example.com')
  assert.equal(handle(['at://not a handle', 'at://b.com']), undefined)
  assert.equal(handle([]), undefined)
  assert.equal(handle(undefined), undefined)
})

test('identityFromFields re-checks stored fields', () => {
  const id = identityFromFields(plcDid, 'Multikey', 'zQ3shXjHeiBuRCKmM36cuYnm7YEMzhGnCmCyW92sRJ9pribSF', 'https://bsky.social', null)
  assert.deepEqual(id?.pds, { hostname: 'bsky.social', noTls: false })
  assert.equal(id?.handle, undefined)
  assert.equal(identityFromFields(plcDid, 'RsaKey', 'zQ3shXjHeiBuRCKmM36cuYnm7YEMzhGnCmCyW92sRJ9pribSF', 'https://bsky.social', null), undefined)
  assert.equal(identityFromFields(plcDid, 'Multikey', 'zQ3shXjHeiBuRCKmM36cuYnm7YEMzhGnCmCyW92sRJ9pribSF', 'https://1.2.3.4', null), undefined)
})
