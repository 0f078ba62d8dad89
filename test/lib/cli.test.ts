// The real command line, spawned as operators run it (dist/lib/cli.js).
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, existsSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from 'node:test'
import { options } from '../../lib/config.js'
import { parsePrometheus, sampleValue } from '../helpers/prometheus.js'
import { RawConsumer } from '../helpers/ws-consumer.js'

const cli = fileURLToPath(new URL('../../lib/cli.js', import.meta.url))

interface Run {
  child: ChildProcess
  stdout: string[]
  stderr: string
  exit: Promise<number | null>
}

function start(args: string[], env: Record<string, string> = {}): Run {
  const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  const run: Run = { child, stdout: [], stderr: '', exit: new Promise((r) => child.once('exit', (code) => r(code))) }
  let partial = ''
  child.stdout?.on('data', (d: Buffer) => {
    const lines = (partial + d.toString()).split('\n')
    partial = lines.pop() ?? ''
    run.stdout.push(...lines)
  })
  child.stderr?.on('data', (d: Buffer) => (run.stderr += d.toString()))
  return run
}

function records(run: Run): Record<string, unknown>[] {
  return run.stdout.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>)
}

async function waitFor(run: Run, msg: string): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 20_000
  for (;;) {
    const r = records(run).find((x) => x.msg === msg)
    if (r !== undefined) return r
    if (Date.now() > deadline || run.child.exitCode !== null) throw new Error(`no "${msg}" log line; stdout: ${run.stdout.join('\n')} stderr: ${run.stderr}`)
    await new Promise((res) => setTimeout(res, 20))
  }
}

test('--help lists every flag with its environment variable', async () => {
  const run = start(['--help'])
  assert.equal(await run.exit, 0)
  const text = run.stdout.join('\n')
  for (const o of options) {
    assert.match(text, new RegExp(`--${o.flag}\\b`))
    if (o.env !== undefined) assert.match(text, new RegExp(o.env))
  }
})

test("README's Configure table has a row for every flag, with its environment variable", () => {
  const readme = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8')
  for (const o of options) assert.match(readme, new RegExp(`^\\| \`--${o.flag}\` \\| \`${o.env}\` \\|`, 'm'), o.flag)
})

test('a bad --io value exits 2 naming it', async () => {
  const run = start(['serve', '--io', 'epoll'])
  assert.equal(await run.exit, 2)
  assert.match(run.stderr, /--io must be auto, uring or uws \(got epoll\)/)
})

for (const code of ['EPERM', 'ENOSYS', 'EINVAL']) {
  test(`--io uring with io_uring failing (${code}) exits non-zero naming the cause`, async () => {
    const run = start(['serve', '--io', 'uring', '--bind', '127.0.0.1:0', '--metrics-bind', '127.0.0.1:0', '--data-dir', mkdtempSync(join(tmpdir(), 'ringlay-'))], {
      RINGLAY_URING_FAIL: code,
    })
    assert.equal(await run.exit, 1)
    assert.match(run.stderr, new RegExp(`--io uring: io_uring unavailable: ${code}`))
  })
}

test('RELAY_IO=uring is read from the environment like --io', async () => {
  const run = start(['serve', '--bind', '127.0.0.1:0', '--metrics-bind', '127.0.0.1:0', '--data-dir', mkdtempSync(join(tmpdir(), 'ringlay-'))], {
    RELAY_IO: 'uring',
    RINGLAY_URING_FAIL: 'EPERM',
  })
  assert.equal(await run.exit, 1)
  assert.match(run.stderr, /io_uring unavailable: EPERM/)
})

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`serve --io auto with io_uring failing runs uWebSockets.js, serves, and stops on ${signal}`, async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'ringlay-')), 'data')
    const run = start(['serve', '--io', 'auto', '--bind', '127.0.0.1:0', '--metrics-bind', '127.0.0.1:0', '--data-dir', dataDir], {
      RINGLAY_URING_FAIL: 'EPERM',
    })
    try {
      const listening = await waitFor(run, 'listening')
      assert.equal(listening.transport, 'uws')
      assert.ok(existsSync(dataDir), 'data dir created')
      const why = records(run).filter((r) => r.level === 'warn')
      assert.equal(why.length, 1)
      assert.equal(why[0].code, 'EPERM')

      const health = await fetch(`http://127.0.0.1:${listening.port}/_health`)
      assert.equal(health.status, 200)
      assert.match(health.headers.get('server') ?? '', /atproto-relay/)
      assert.deepEqual(await health.json(), { status: 'ok' })
      const consumer = await RawConsumer.connect({ port: listening.port as number })
      const metrics = parsePrometheus(await (await fetch(`http://127.0.0.1:${listening.metricsPort}/metrics`)).text())
      assert.equal(sampleValue(metrics, 'relay_transport_info', { transport: 'uws' }), 1)
      assert.equal(sampleValue(metrics, 'relay_consumers'), 1)
      assert.equal(sampleValue(metrics, 'relay_http_requests_total', { route: '/_health', status: '200' }), 1)

      run.child.kill(signal)
      assert.equal(await run.exit, 0)
      assert.ok(records(run).some((r) => r.msg === 'stopped'))
      // Consumers are told the relay is going away.
      assert.equal((await consumer.closed).code, 1001)
    } finally {
      run.child.kill('SIGKILL')
    }
  })
}
