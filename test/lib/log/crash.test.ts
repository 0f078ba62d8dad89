// kill -9 through the napi path: a child node process appends in a loop and reports each
// acknowledged batch on stdout; it is SIGKILLed at ten random moments. After each kill, on a
// copy of the files (so the next child still finds the state a kill leaves): every seq from 1
// to the last is there exactly once, every reported seq is there with its exact bytes, and
// the next child resumes right after the last record.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { cpSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { EventLog } from '../../../lib/log/event-log.js'
import { frameFor } from './frames.js'

const child = join(dirname(fileURLToPath(import.meta.url)), 'crash-child.js')

interface Round {
  openedAt: number
  maxReported: number
  signal: NodeJS.Signals | null
}

function runChild(dir: string, killAfterMs: number): Promise<Round> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [child, dir], { stdio: ['ignore', 'pipe', 'inherit'] })
    let buf = ''
    let openedAt = -1
    let maxReported = 0
    p.stdout.setEncoding('utf8')
    p.stdout.on('data', (chunk: string) => {
      buf += chunk
      let nl
      while ((nl = buf.indexOf('\n')) >= 0) {
        const [kind, a, b] = buf.slice(0, nl).split(' ')
        buf = buf.slice(nl + 1)
        if (kind === 'open') {
          openedAt = Number(a)
          setTimeout(() => p.kill('SIGKILL'), killAfterMs)
        } else if (kind === 'w') {
          assert.ok(Number(a) > maxReported, 'reported seqs only increase')
          maxReported = Number(b)
        }
      }
    })
    p.on('error', reject)
    p.on('close', (_code, signal) => resolve({ openedAt, maxReported, signal }))
  })
}

test('kill -9 at ten random moments: no seq reused, every reported frame intact', async () => {
  const root = mkdtempSync(join(tmpdir(), 'ringlay-log-crash-'))
  try {
    const dir = join(root, 'live')
    let lastOnDisk = 0
    let maxReported = 0
    let batches = 0
    for (let round = 0; round < 10; round++) {
      const r = await runChild(dir, 5 + Math.floor(Math.random() * 60))
      assert.equal(r.signal, 'SIGKILL', 'the child was killed, it did not fail')
      assert.ok(r.openedAt > maxReported, 'numbering never goes back')
      assert.equal(r.openedAt, lastOnDisk + 1, 'same boot after kill -9: no gap either')
      if (r.maxReported > 0) batches++
      maxReported = Math.max(maxReported, r.maxReported)

      const copy = join(root, `copy${round}`)
      cpSync(dir, copy, { recursive: true })
      const log = EventLog.open({ dataDir: copy, bootId: 'boot-ts-crash' })
      let after = 0
      let expect = 1
      for (;;) {
        const batch = log.read(after, 1 << 20)
        if (batch.state !== 'frames') break
        for (const f of batch.frames) {
          assert.equal(f.seq, expect++)
          assert.ok(f.bytes.equals(frameFor(f.seq)), `frame ${f.seq} intact`)
        }
        after = batch.position
      }
      lastOnDisk = expect - 1
      assert.ok(lastOnDisk >= maxReported, 'every reported seq is on disk')
      log.close()
      rmSync(copy, { recursive: true, force: true })
    }
    assert.ok(batches >= 5, `most children got to append (${batches})`)
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
})
