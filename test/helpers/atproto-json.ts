// atproto JSON ⇄ DAG-CBOR firehose frames, for the relay's black-box tests: the scenario
// fixtures write bodies as atproto JSON ({"$bytes": base64} for bytes, {"$link": cid} for
// CIDs); the wire carries two DAG-CBOR items back to back (header, then body). Built on cborg
// alone (the only CBOR library in package.json): tag 42 for CIDs, length-first key order,
// and decodeFirst to split the two items.
import { decode, decodeFirst, encode, Token, Type } from 'cborg'

// A CID as bytes (no multibase prefix, no DAG-CBOR 0x00). Compares by `toString()`.
export class CidLink {
  constructor(readonly bytes: Uint8Array) {}

  static parse(text: string): CidLink {
    if (!text.startsWith('b')) throw new Error(`only base32 CIDs are supported: ${text}`)
    return new CidLink(base32Decode(text.slice(1)))
  }

  toString(): string {
    return 'b' + base32Encode(this.bytes)
  }

  toJSON(): { $link: string } {
    return { $link: this.toString() }
  }
}

export interface FrameHeader {
  op: number
  t?: string
}

export interface DecodedFrame {
  header: FrameHeader
  body: Record<string, unknown>
}

// A CID from @atproto/repo (multiformats' CID or lex-data's Cid) or our CidLink.
function cidBytes(v: object): Uint8Array | undefined {
  if (v instanceof CidLink) return v.bytes
  const c = v as { bytes?: unknown; version?: unknown; code?: unknown; multihash?: unknown }
  if (c.bytes instanceof Uint8Array && typeof c.version === 'number' && typeof c.code === 'number' && c.multihash !== undefined) return c.bytes
  return undefined
}

const encodeOptions = {
  typeEncoders: {
    Object: (obj: unknown): Token[] | null => {
      const bytes = cidBytes(obj as object)
      if (bytes === undefined) return null
      const tagged = new Uint8Array(bytes.length + 1)
      tagged.set(bytes, 1)
      return [new Token(Type.tag, 42), new Token(Type.bytes, tagged)]
    },
    // DAG-CBOR has no undefined: a missing optional field is left out of the map.
    undefined: (): Token[] => {
      throw new Error('undefined is not DAG-CBOR')
    },
    number: (n: number): Token[] | null => {
      if (!Number.isSafeInteger(n)) throw new Error(`not an atproto integer: ${n}`)
      return null
    },
  },
}

const tags: ((inner: unknown) => unknown)[] = []
tags[42] = (inner: unknown) => {
  const b = inner as Uint8Array
  if (!(b instanceof Uint8Array) || b[0] !== 0) throw new Error('tag 42 must wrap bytes starting with 0x00')
  return new CidLink(b.subarray(1))
}
const decodeOptions = { tags, strict: true, rejectDuplicateMapKeys: true, useMaps: false, allowUndefined: false, allowIndefinite: false }

export function encodeDagCbor(value: unknown): Uint8Array {
  return encode(value, encodeOptions)
}

export function decodeDagCbor(bytes: Uint8Array): unknown {
  return decode(bytes, decodeOptions)
}

export function encodeFrame(header: FrameHeader, body: unknown): Buffer {
  return Buffer.concat([encodeDagCbor(header), encodeDagCbor(body)])
}

// Exactly two items, header then body, like the official reader (protocol.md §1.2).
export function decodeFrame(bytes: Uint8Array): DecodedFrame {
  const [header, rest] = decodeFirst(bytes, decodeOptions) as [FrameHeader, Uint8Array]
  const [body, tail] = decodeFirst(rest, decodeOptions) as [Record<string, unknown>, Uint8Array]
  if (tail.length !== 0) throw new Error(`frame has ${tail.length} bytes after the body`)
  if (typeof header !== 'object' || header === null || typeof header.op !== 'number') throw new Error('frame header is not {op, t}')
  return { header, body }
}

// atproto JSON → data model values (Uint8Array for $bytes, CidLink for $link).
export function fromAtprotoJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(fromAtprotoJson)
  if (value === null || typeof value !== 'object') return value
  const o = value as Record<string, unknown>
  const keys = Object.keys(o)
  if (keys.length === 1 && typeof o.$link === 'string') return CidLink.parse(o.$link)
  if (keys.length === 1 && typeof o.$bytes === 'string') return new Uint8Array(Buffer.from(o.$bytes, 'base64'))
  const out: Record<string, unknown> = {}
  for (const k of keys) out[k] = fromAtprotoJson(o[k])
  return out
}

// Data model values → atproto JSON ($bytes unpadded base64, as the spec writes it).
export function toAtprotoJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toAtprotoJson)
  if (value === null || typeof value !== 'object') return value
  if (value instanceof Uint8Array) return { $bytes: Buffer.from(value).toString('base64').replace(/=+$/, '') }
  const cid = cidBytes(value)
  if (cid !== undefined) return { $link: new CidLink(cid).toString() }
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) out[k] = toAtprotoJson(v)
  return out
}

// A scenario's {header, body} (atproto JSON) → wire bytes.
export function frameFromJson(frame: { header: FrameHeader; body: unknown }): Buffer {
  return encodeFrame(frame.header, fromAtprotoJson(frame.body))
}

// RFC 4648 base32, lower case, no padding (multibase 'b').
const alphabet = 'abcdefghijklmnopqrstuvwxyz234567'

function base32Encode(bytes: Uint8Array): string {
  let out = ''
  let bits = 0
  let acc = 0
  for (const b of bytes) {
    acc = (acc << 8) | b
    bits += 8
    while (bits >= 5) {
      out += alphabet[(acc >>> (bits - 5)) & 31]
      bits -= 5
    }
  }
  if (bits > 0) out += alphabet[(acc << (5 - bits)) & 31]
  return out
}

function base32Decode(text: string): Uint8Array {
  const out: number[] = []
  let bits = 0
  let acc = 0
  for (const ch of text) {
    const v = alphabet.indexOf(ch)
    if (v < 0) throw new Error(`bad base32 character ${JSON.stringify(ch)}`)
    acc = ((acc << 5) | v) & 0xffff
    bits += 5
    if (bits >= 8) {
      out.push((acc >>> (bits - 8)) & 0xff)
      bits -= 8
    }
  }
  return Uint8Array.from(out)
}

// The two bodies of one event as a relay test compares them: all fields but `seq`. A relay
// re-emits #account (with the combined status) and may re-emit #identity, so when their
// `time` differs only the semantic fields must match. Returns [got, want] for deepEqual.
export function comparableEvents(type: string | undefined, got: Record<string, unknown>, want: Record<string, unknown>): [unknown, unknown] {
  const g = toAtprotoJson(got) as Record<string, unknown>
  const w = toAtprotoJson(want) as Record<string, unknown>
  delete g.seq
  delete w.seq
  if ((type === '#account' || type === '#identity') && g.time !== w.time) {
    const pick = (b: Record<string, unknown>): Record<string, unknown> =>
      type === '#account' ? { did: b.did, active: b.active, status: b.status } : { did: b.did, handle: b.handle }
    return [pick(g), pick(w)]
  }
  return [g, w]
}
