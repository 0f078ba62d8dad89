// Host names as the relay stores and compares them: the key of the hosts table, the name a
// requestCrawl asks for, and what a DID document's PDS endpoint must equal for host
// authority. Same rules as indigo's ParseHostname (cmd/relay/relay/host.go): a bare name or
// a URL, https assumed, scheme http/https/ws/wss, no port except `localhost:PORT`, no IP
// literals or single-label names, lower-cased. The authority is cut out by hand rather than
// with WHATWG URL, which would quietly turn `0x7f.1` into 127.0.0.1 and Unicode into
// punycode; the raw text has to pass the syntax check as written.

export interface ParsedHost {
  // `pds.example.com`, or `localhost:2583`
  hostname: string
  // http:// and ws:// (only ever accepted for insecure hosts; the caller decides)
  noTls: boolean
}

export class InvalidHostnameError extends Error {
  override name = 'InvalidHostnameError'
}

// Handle syntax (atproto spec "Handle"): at least two labels, the last one not starting with
// a digit, so IPv4 literals and single-word names fail.
const dnsNamePattern = /^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/i
const urlPattern = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)([/?#].*)?$/s

// A DNS name in handle syntax (case-insensitive, at most 253 characters).
export function isDnsName(name: string): boolean {
  return name.length <= 253 && dnsNamePattern.test(name)
}

// TLDs that are syntactically fine but must never be resolved for atproto identities
// (atproto spec "Handle"; indigo AllowedTLD).
const disallowedTlds = new Set(['alt', 'arpa', 'example', 'internal', 'invalid', 'local', 'localhost', 'onion'])

export function hasDisallowedTld(name: string): boolean {
  return disallowedTlds.has(name.slice(name.lastIndexOf('.') + 1).toLowerCase())
}

export function parseHostname(raw: string): ParsedHost {
  const lower = raw.toLowerCase()
  const url = lower.includes('://') ? lower : (lower.startsWith('localhost:') ? 'http://' : 'https://') + lower
  const m = urlPattern.exec(url)
  if (m === null) throw new InvalidHostnameError(`not a valid host URL: ${JSON.stringify(raw)}`)
  const scheme = m[1] as string
  const authority = m[2] as string
  let noTls: boolean
  if (scheme === 'https' || scheme === 'wss') noTls = false
  else if (scheme === 'http' || scheme === 'ws') noTls = true
  else throw new InvalidHostnameError(`unsupported URL scheme: ${scheme}`)
  if (authority.includes('@')) throw new InvalidHostnameError('credentials are not allowed in a host URL')
  if (authority.startsWith('[')) throw new InvalidHostnameError('IP addresses are not allowed as host names')
  const parts = authority.split(':')
  if (parts.length > 2) throw new InvalidHostnameError(`not a valid host: ${JSON.stringify(authority)}`)
  const [host, portText] = parts as [string, string | undefined]
  if (host === 'localhost') {
    const port = portText === undefined ? undefined : parsePort(portText)
    if (port === undefined) throw new InvalidHostnameError('port number is required for localhost')
    return { hostname: `localhost:${port}`, noTls }
  }
  if (portText !== undefined) throw new InvalidHostnameError('port number not allowed for non-local names')
  if (!isDnsName(host)) throw new InvalidHostnameError(`not a public hostname: ${JSON.stringify(host)}`)
  return { hostname: host, noTls }
}

export function tryParseHostname(raw: string): ParsedHost | undefined {
  try {
    return parseHostname(raw)
  } catch (err) {
    if (err instanceof InvalidHostnameError) return undefined
    throw err
  }
}

// Base URL of a host's HTTP API (no trailing slash).
export function hostBaseUrl(host: ParsedHost): string {
  return `${host.noTls ? 'http' : 'https'}://${host.hostname}`
}

function parsePort(text: string): number | undefined {
  if (!/^[0-9]{1,5}$/.test(text)) return undefined
  const port = Number(text)
  return port >= 1 && port <= 65535 ? port : undefined
}
