import { test } from 'node:test'
import assert from 'node:assert/strict'
import { InvalidHostnameError, hasDisallowedTld, hostBaseUrl, isDnsName, parseHostname, tryParseHostname } from '../../../lib/relay/hostname.js'

// indigo's TestParseHostname cases (cmd/relay/relay/host_test.go), then our additions.
const accepted: [input: string, hostname: string, noTls: boolean][] = [
  ['https://pds.example.com', 'pds.example.com', false],
  ['http://pds.example.com', 'pds.example.com', true],
  ['ws://pds.example.com', 'pds.example.com', true],
  ['wss://pds.example.com', 'pds.example.com', false],
  ['pds.example.com', 'pds.example.com', false],
  ['morel.us-east.host.gndr.network', 'morel.us-east.host.gndr.network', false],
  ['https://service.local', 'service.local', false],
  ['localhost:8080', 'localhost:8080', true],
  ['https://localhost:8080', 'localhost:8080', false],
  // ours
  ['HTTPS://PDS.Example.COM', 'pds.example.com', false],
  ['https://pds.example.com/', 'pds.example.com', false],
  ['https://pds.example.com/xrpc/com.atproto.sync.subscribeRepos?cursor=5', 'pds.example.com', false],
  ['wss://bsky.network/xrpc/com.atproto.sync.subscribeRepos', 'bsky.network', false],
  ['http://localhost:2583', 'localhost:2583', true],
  ['LOCALHOST:2583', 'localhost:2583', true],
  ['xn--bcher-kva.example', 'xn--bcher-kva.example', false],
]

const refused: string[] = [
  'asdf',
  'https://localhost',
  'localhost',
  'https://8.8.8.8',
  'https://internal',
  'at://pds.example.com',
  'ftp://pds.example.com',
  // ours
  '',
  'https://',
  'https://pds.example.com:443',
  'pds.example.com:8080',
  'https://[::1]:8080',
  'http://127.0.0.1:8080',
  'https://0x7f.1',
  'https://2130706433',
  'https://user:pw@pds.example.com',
  'https://pds.example.com.',
  ' pds.example.com',
  'pds.example.com ',
  'https://pds_host.example.com',
  'https://-pds.example.com',
  'https://pds.example.123',
  'https://bücher.example',
  'localhost:0',
  'localhost:65536',
  'localhost:80a',
  'https://localhost:8080:9',
  `https://${'a'.repeat(64)}.example.com`,
  `https://${'abcdefghi.'.repeat(26)}com`,
]

test('parseHostname accepts host names and URLs like indigo, lower-cased', () => {
  for (const [input, hostname, noTls] of accepted) {
    assert.deepEqual(parseHostname(input), { hostname, noTls }, input)
  }
})

test('parseHostname refuses IPs, ports, odd schemes and bad syntax', () => {
  for (const input of refused) {
    assert.throws(() => parseHostname(input), InvalidHostnameError, JSON.stringify(input))
    assert.equal(tryParseHostname(input), undefined, JSON.stringify(input))
  }
})

test('a DID document PDS endpoint maps to the host authority name', () => {
  assert.deepEqual(parseHostname('https://bsky.social'), { hostname: 'bsky.social', noTls: false })
  assert.deepEqual(parseHostname('http://localhost:43123'), { hostname: 'localhost:43123', noTls: true })
  assert.equal(hostBaseUrl({ hostname: 'localhost:43123', noTls: true }), 'http://localhost:43123')
  assert.equal(hostBaseUrl({ hostname: 'bsky.social', noTls: false }), 'https://bsky.social')
})

test('isDnsName and disallowed TLDs', () => {
  assert.ok(isDnsName('a.co'))
  assert.ok(!isDnsName('a'))
  assert.ok(!isDnsName('1.2.3.4'))
  assert.ok(hasDisallowedTld('x.onion'))
  assert.ok(hasDisallowedTld('pds.LOCAL'))
  assert.ok(!hasDisallowedTld('pds.example.com'))
})
