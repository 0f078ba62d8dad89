// The parts of a DID document a relay uses (protocol.md §6.2): the `#atproto` signing key,
// the `#atproto_pds` endpoint and the declared handle. Keys stay as multibase text plus
// type: the native verify workers decode them, so JS never needs the key bytes.
import { isDnsName, tryParseHostname } from '../relay/hostname.js'
import type { ParsedHost } from '../relay/hostname.js'

export type KeyType = 'Multikey' | 'EcdsaSecp256k1VerificationKey2019' | 'EcdsaSecp256r1VerificationKey2019'
const keyTypes: ReadonlySet<string> = new Set<KeyType>(['Multikey', 'EcdsaSecp256k1VerificationKey2019', 'EcdsaSecp256r1VerificationKey2019'])

export interface SigningKey {
  type: KeyType
  // base58btc multibase ('z…'): a Multikey (multicodec-prefixed compressed point) or, for the
  // legacy types, the raw point the type names.
  multibase: string
}

export interface AtprotoIdentity {
  did: string
  signingKey: SigningKey
  // The serviceEndpoint as written (https://host[:port]).
  pdsEndpoint: string
  // Its host, as host authority compares it with the host an event came from.
  pds: ParsedHost
  // From alsoKnownAs, lower-cased; declared by the document, not verified.
  handle: string | undefined
}

export type DocFailureReason = 'bad_document' | 'no_key' | 'no_pds'
export type DocParseResult = { ok: true; identity: AtprotoIdentity } | { ok: false; reason: DocFailureReason; message: string }

// base58btc alphabet; the length bound is generous (a legacy uncompressed key is ~90 chars).
const multibasePattern = /^z[1-9A-HJ-NP-Za-km-z]{20,200}$/

interface Entry {
  id?: unknown
  type?: unknown
  controller?: unknown
  publicKeyMultibase?: unknown
  serviceEndpoint?: unknown
}

export function parseDidDocument(did: string, doc: unknown): DocParseResult {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return bad('document is not a JSON object')
  const d = doc as { id?: unknown; alsoKnownAs?: unknown; verificationMethod?: unknown; service?: unknown }
  if (d.id !== did) return bad(`document id ${JSON.stringify(d.id)} is not the requested DID`)
  const methods = entries(d.verificationMethod)
  const services = entries(d.service)
  const aka = d.alsoKnownAs ?? []
  if (methods === undefined || services === undefined || !Array.isArray(aka)) return bad('verificationMethod, service and alsoKnownAs must be arrays')
  const key = signingKey(did, methods)
  if (typeof key === 'string') return { ok: false, reason: 'no_key', message: key }
  const pds = pdsService(did, services)
  if (typeof pds === 'string') return { ok: false, reason: 'no_pds', message: pds }
  return { ok: true, identity: { did, signingKey: key, pdsEndpoint: pds.endpoint, pds: pds.host, handle: declaredHandle(aka) } }
}

// Rebuilds an identity from stored fields (the SQLite cache); undefined when they no longer
// pass the checks a fresh document would.
export function identityFromFields(did: string, keyType: string, multibase: string, pdsEndpoint: string, handle: string | null): AtprotoIdentity | undefined {
  if (!keyTypes.has(keyType) || !multibasePattern.test(multibase)) return undefined
  const pds = tryParseHostname(pdsEndpoint)
  if (pds === undefined) return undefined
  return { did, signingKey: { type: keyType as KeyType, multibase }, pdsEndpoint, pds, handle: handle ?? undefined }
}

function bad(message: string): DocParseResult {
  return { ok: false, reason: 'bad_document', message }
}

function entries(v: unknown): Entry[] | undefined {
  if (v === undefined || v === null) return []
  if (!Array.isArray(v)) return undefined
  return v.filter((e): e is Entry => typeof e === 'object' && e !== null)
}

// `#atproto` or `<did>#atproto`: a fragment of some other DID is not this account's key.
function isFragment(did: string, id: unknown, fragment: string): boolean {
  return id === `#${fragment}` || id === `${did}#${fragment}`
}

function signingKey(did: string, methods: Entry[]): SigningKey | string {
  const vm = methods.find((m) => isFragment(did, m.id, 'atproto') && m.controller === did)
  if (vm === undefined) return 'no #atproto verification method controlled by the DID'
  if (typeof vm.type !== 'string' || !keyTypes.has(vm.type)) return `unsupported #atproto key type ${JSON.stringify(vm.type)}`
  if (typeof vm.publicKeyMultibase !== 'string' || !multibasePattern.test(vm.publicKeyMultibase)) return '#atproto key is not base58btc multibase'
  return { type: vm.type as KeyType, multibase: vm.publicKeyMultibase }
}

// First `#atproto_pds` entry wins (spec); its type and endpoint must then be right.
function pdsService(did: string, services: Entry[]): { endpoint: string; host: ParsedHost } | string {
  const s = services.find((e) => isFragment(did, e.id, 'atproto_pds'))
  if (s === undefined) return 'no #atproto_pds service'
  if (s.type !== 'AtprotoPersonalDataServer') return `#atproto_pds has type ${JSON.stringify(s.type)}`
  if (typeof s.serviceEndpoint !== 'string') return '#atproto_pds endpoint is not a string'
  const host = tryParseHostname(s.serviceEndpoint)
  if (host === undefined) return `#atproto_pds endpoint is not a usable host URL: ${JSON.stringify(s.serviceEndpoint)}`
  return { endpoint: s.serviceEndpoint, host }
}

// The first at:// entry is the claim; if it is not a valid handle there is no handle.
function declaredHandle(aka: unknown[]): string | undefined {
  const uri = aka.find((u): u is string => typeof u === 'string' && u.startsWith('at://'))
  const handle = uri?.slice('at://'.length).toLowerCase()
  return handle !== undefined && isDnsName(handle) ? handle : undefined
}
