// Transport selection: probe once; `auto` falls back to uWebSockets.js only on EPERM,
// ENOSYS or EINVAL and says why in one log line; `uring` fails naming the cause.
import assert from 'node:assert/strict'
import { afterEach, test } from 'node:test'
import { setLogSink } from '../../../lib/logger.js'
import { TransportUnavailableError, selectTransport } from '../../../lib/transport/select.js'

afterEach(() => {
  delete process.env.RINGLAY_URING_FAIL
  setLogSink((line) => process.stdout.write(line + '\n'))
})

for (const code of ['EPERM', 'ENOSYS', 'EINVAL']) {
  test(`auto with io_uring failing with ${code} runs uWebSockets.js and logs one line saying why`, async () => {
    const lines: string[] = []
    setLogSink((line) => lines.push(line))
    process.env.RINGLAY_URING_FAIL = code
    const t = await selectTransport('auto')
    try {
      assert.equal(t.kind, 'uws')
      assert.equal(lines.length, 1)
      const record = JSON.parse(lines[0])
      assert.equal(record.level, 'warn')
      assert.equal(record.code, code)
      assert.match(record.msg, /uWebSockets\.js/)
    } finally {
      await t.close()
    }
  })

  test(`uring with io_uring failing with ${code} throws, naming the cause`, async () => {
    process.env.RINGLAY_URING_FAIL = code
    await assert.rejects(selectTransport('uring'), (err: unknown) => {
      assert.ok(err instanceof TransportUnavailableError)
      assert.equal(err.code, code)
      assert.match(err.message, new RegExp(`io_uring unavailable: ${code}`))
      return true
    })
  })
}

test('uws never probes io_uring', async () => {
  const lines: string[] = []
  setLogSink((line) => lines.push(line))
  process.env.RINGLAY_URING_FAIL = 'EPERM'
  const t = await selectTransport('uws')
  assert.equal(t.kind, 'uws')
  assert.deepEqual(lines, [])
  await t.close()
})
