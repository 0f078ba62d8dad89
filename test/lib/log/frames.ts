// Deterministic test frames for the event-log suites: the bytes of a frame follow from its
// seq, so a reader can check any stored frame without remembering what was written.
export function frameFor(seq: number): Buffer {
  const n = 40 + ((seq * 7919) % 301)
  const f = Buffer.alloc(n)
  for (let i = 0; i < n; i++) f[i] = (seq * 31 + i * 7 + (i >> 8)) & 0xff
  f.writeBigUInt64LE(BigInt(seq), 0)
  return f
}

export function didFor(seq: number, accounts = 5): string {
  return `did:plc:account${seq % accounts}`
}
