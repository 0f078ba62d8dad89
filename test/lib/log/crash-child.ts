// Child process of crash.test.ts: opens the log in argv[2], then appends batches as fast as it
// can until it is killed, printing "open <nextSeq>" once and "w <first> <last>" after every
// append that returned ok (synchronous writes to a pipe: nothing is buffered in JS).
import { writeSync } from 'node:fs'
import { EventLog } from '../../../lib/log/event-log.js'
import { didFor, frameFor } from './frames.js'

const log = EventLog.open({
  dataDir: process.argv[2],
  bootId: 'boot-ts-crash',
  segmentMaxBytes: 128 * 1024,
  syncIntervalMs: 3,
  leaseBlock: 3000,
})
writeSync(1, `open ${log.nextSeq()}\n`)
let rnd = process.pid
for (;;) {
  rnd = (rnd * 1103515245 + 12345) % 2147483648
  const n = 1 + (rnd % 150)
  const first = log.nextSeq()
  const frames: Buffer[] = []
  const dids: string[] = []
  for (let i = 0; i < n; i++) {
    frames.push(frameFor(first + i))
    dids.push(didFor(first + i))
  }
  const r = log.append(frames, dids, Date.now(), first)
  if (!r.ok) process.exit(3)
  writeSync(1, `w ${r.firstSeq} ${r.lastSeq}\n`)
  log.syncIfDue()
}
