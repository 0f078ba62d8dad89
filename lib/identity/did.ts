// DID syntax (atproto spec "DID", protocol.md §6.3) and the two methods atproto supports.
import { hasDisallowedTld, isDnsName } from '../relay/hostname.js'

const didPattern = /^did:[a-z]+:[a-zA-Z0-9._:%-]*[a-zA-Z0-9._-]$/
const plcPattern = /^did:plc:[a-z2-7]{24}$/
export const maxDidLength = 2048

export function isValidDid(did: string): boolean {
  return did.length <= maxDidLength && didPattern.test(did)
}

// did:plc and did:web are case-insensitive in practice and arrive in mixed case from some
// PDSes; the relay keys all state by the lower-case form (indigo NormalizeDID). Other
// methods are case-sensitive and left alone.
export function normalizeDid(did: string): string {
  const lower = did.toLowerCase()
  return lower.startsWith('did:plc:') || lower.startsWith('did:web:') ? lower : did
}

export function didMethod(did: string): string {
  return did.slice(4, did.indexOf(':', 4))
}

export function isValidPlcDid(did: string): boolean {
  return plcPattern.test(did)
}

export type DidWebHost = { ok: true; host: string; localhost: boolean } | { ok: false; message: string }

// The host a did:web document is fetched from. atproto allows a bare hostname only (no
// path segments); a port only for `localhost` (`did:web:localhost%3A2583`), for development.
export function didWebHost(did: string): DidWebHost {
  const ident = did.slice('did:web:'.length)
  if (ident.includes(':')) return { ok: false, message: 'did:web with a path is not supported by atproto' }
  const host = ident.replace(/%3a/gi, ':').toLowerCase()
  const local = /^localhost:([0-9]{1,5})$/.exec(host)
  if (local !== null) {
    const port = Number(local[1])
    if (port < 1 || port > 65535) return { ok: false, message: `bad port in ${did}` }
    return { ok: true, host: `localhost:${port}`, localhost: true }
  }
  if (host.includes('%') || host.includes(':')) return { ok: false, message: 'did:web host may only carry a port for localhost' }
  if (!isDnsName(host)) return { ok: false, message: `did:web identifier is not a hostname: ${host}` }
  if (hasDisallowedTld(host)) return { ok: false, message: `did:web hostname has a disallowed TLD: ${host}` }
  return { ok: true, host, localhost: false }
}
