import { test } from 'node:test'
import assert from 'node:assert/strict'
import { didMethod, didWebHost, isValidDid, isValidPlcDid, normalizeDid } from '../../../lib/identity/did.js'
import { isDnsName } from '../../../lib/relay/hostname.js'
import { atprotoFixtures, readLines } from './shared-fixtures.js'

const fixtures = atprotoFixtures()

test('DID syntax: interop fixtures', { skip: fixtures === undefined }, () => {
  for (const did of readLines(fixtures!, 'interop/syntax/did_syntax_valid.txt')) assert.ok(isValidDid(did), JSON.stringify(did))
  for (const did of readLines(fixtures!, 'interop/syntax/did_syntax_invalid.txt')) assert.ok(!isValidDid(did), JSON.stringify(did))
})

test('handle syntax (used for did:web hosts and alsoKnownAs): interop fixtures', { skip: fixtures === undefined }, () => {
  for (const h of readLines(fixtures!, 'interop/syntax/handle_syntax_valid.txt')) assert.ok(isDnsName(h), JSON.stringify(h))
  for (const h of readLines(fixtures!, 'interop/syntax/handle_syntax_invalid.txt')) assert.ok(!isDnsName(h), JSON.stringify(h))
})

test('did:plc shape, method, normalization', () => {
  assert.ok(isValidPlcDid('did:plc:ewvi7nxzyoun6zhxrhs64oiz'))
  assert.ok(!isValidPlcDid('did:plc:ewvi7nxzyoun6zhxrhs64oi'))
  assert.ok(!isValidPlcDid('did:plc:EWVI7NXZYOUN6ZHXRHS64OIZ'))
  assert.ok(!isValidPlcDid('did:plc:ewvi7nxzyoun6zhxrhs64oi1'))
  assert.equal(didMethod('did:plc:ewvi7nxzyoun6zhxrhs64oiz'), 'plc')
  assert.equal(didMethod('did:key:zQ3sh'), 'key')
  assert.equal(normalizeDid('DID:PLC:EWVI7NXZYOUN6ZHXRHS64OIZ'), 'did:plc:ewvi7nxzyoun6zhxrhs64oiz')
  assert.equal(normalizeDid('did:web:Example.COM'), 'did:web:example.com')
  assert.equal(normalizeDid('did:key:zQ3shABC'), 'did:key:zQ3shABC')
})

test('did:web hosts: hostname only, a port only for localhost', () => {
  assert.deepEqual(didWebHost('did:web:example.com'), { ok: true, host: 'example.com', localhost: false })
  assert.deepEqual(didWebHost('did:web:localhost%3A2583'), { ok: true, host: 'localhost:2583', localhost: true })
  assert.deepEqual(didWebHost('did:web:localhost%3a2583'), { ok: true, host: 'localhost:2583', localhost: true })
  for (const bad of ['did:web:example.com:user:alice', 'did:web:example.com%3A8443', 'did:web:localhost', 'did:web:1.2.3.4', 'did:web:printer.local', 'did:web:x.onion', 'did:web:localhost%3A0', 'did:web:intranet']) {
    assert.equal(didWebHost(bad).ok, false, bad)
  }
})
