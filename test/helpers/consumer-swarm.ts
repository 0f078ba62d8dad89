// Child process holding many firehose consumers, so that parsing and hashing what they
// receive runs on the other core, not on the relay's event loop under test. Started by
// swarm.ts with one JSON argument { port, count, expect, progressEvery? }; talks over IPC:
//   → { type: 'ready' }                    every consumer is upgraded
//   → { type: 'progress', messages }       messages received by all consumers together,
//                                          every `progressEvery` (for pacing a sender)
//   → { type: 'done', result }             every consumer got `expect` messages, or closed
//   ← { type: 'report' }                   asks for the result now (after a timeout)
// A consumer's digest is SHA-256 over (4-byte length, bytes) of each message in order, so
// equal digests mean the same messages, byte-exact, in the same order.
import { createHash, type Hash } from 'node:crypto'
import { RawConsumer } from './ws-consumer.js'

export interface SwarmResult {
  // digest → how many consumers ended with it (after exactly `expect` messages)
  digests: Record<string, number>
  // consumers that closed or got more/other than expected, with why
  failures: string[]
  bytes: number
}

interface Tally {
  hash: Hash
  messages: number
  digest?: string
}

const { port, count, expect, progressEvery } = JSON.parse(process.argv[2]) as {
  port: number
  count: number
  expect: number
  progressEvery?: number
}
const tallies: Tally[] = []
const failures: string[] = []
let bytes = 0
let finished = 0
let received = 0

function result(): SwarmResult {
  const digests: Record<string, number> = {}
  for (const t of tallies) if (t.digest !== undefined) digests[t.digest] = (digests[t.digest] ?? 0) + 1
  return { digests, failures, bytes }
}

function finish(): void {
  finished++
  if (finished === count) process.send?.({ type: 'done', result: result() })
}

async function open(i: number): Promise<void> {
  const t: Tally = { hash: createHash('sha256'), messages: 0 }
  tallies.push(t)
  const len = Buffer.alloc(4)
  const c = await RawConsumer.connect({
    port,
    onMessage: (payload, opcode) => {
      t.messages++
      bytes += payload.length
      if (progressEvery !== undefined && ++received % progressEvery === 0) process.send?.({ type: 'progress', messages: received })
      if (opcode !== 2) failures.push(`consumer ${i}: opcode ${opcode}`)
      if (t.messages > expect) return void failures.push(`consumer ${i}: message ${t.messages} of ${expect}`)
      len.writeUInt32BE(payload.length)
      t.hash.update(len).update(payload)
      if (t.messages === expect) {
        t.digest = t.hash.digest('hex')
        finish()
      }
    },
  })
  void c.closed.then((info) => {
    if (t.digest !== undefined) return
    failures.push(`consumer ${i}: closed ${info.code} ${info.reason} after ${t.messages} messages`)
    finish()
  })
}

process.on('message', (msg: { type: string }) => {
  if (msg.type === 'report') process.send?.({ type: 'done', result: result() })
})

// Waves of 100 connections: a thousand SYNs at once overflow a listen backlog.
for (let i = 0; i < count; i += 100) {
  await Promise.all(Array.from({ length: Math.min(100, count - i) }, (_, k) => open(i + k)))
}
process.send?.({ type: 'ready' })
