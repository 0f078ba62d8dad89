// `ringlay serve` as a child process for the relay's black-box tests: a temp data dir (or a
// given one, to restart on the same state), --bind/--metrics-bind on 127.0.0.1:0 with the bound
// ports read from the JSON "listening" log line, stop (SIGTERM) or kill -9, and the JSON log
// lines kept for assertions and for failure messages. The child inherits RINGLAY_NATIVE, so
// it runs the addon build the tests were started with.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { packageRoot } from '../../lib/native.js'

export type IoMode = 'auto' | 'uring' | 'uws'

export interface RelayProcessOptions {
  // Default: a fresh temp dir, removed by dispose().
  dataDir?: string
  io?: IoMode
  plcHost?: string
  adminPassword?: string
  lenient?: boolean
  replayWindow?: string
  initialSeq?: number
  // Default true: the fake PDS and dev-env's PDS are localhost:PORT over ws://.
  allowInsecureHosts?: boolean
  logLevel?: 'debug' | 'info' | 'warn' | 'error'
  args?: string[]
  env?: Record<string, string>
  readyTimeoutMs?: number
}

export interface RelayLogLine {
  level?: string
  component?: string
  msg?: string
  [field: string]: unknown
}

export interface ExitInfo {
  code: number | null
  signal: NodeJS.Signals | null
}

const cli = join(packageRoot, 'dist', 'lib', 'cli.js')
const maxKeptLines = 20_000
const live = new Set<ChildProcess>()

// A test that fails half-way must not leave relays running.
process.on('exit', () => {
  for (const p of live) p.kill('SIGKILL')
})

export function tempDataDir(prefix = 'ringlay-relay-'): string {
  return mkdtempSync(join(tmpdir(), prefix))
}

export class RelayProcess {
  readonly logs: RelayLogLine[] = []
  stderr = ''
  port = 0
  metricsPort = 0
  readonly exited: Promise<ExitInfo>
  exitInfo: ExitInfo | undefined
  private listeners: ((line: RelayLogLine) => void)[] = []

  private constructor(
    readonly child: ChildProcess,
    readonly dataDir: string,
    readonly options: RelayProcessOptions,
    private ownsDir: boolean,
  ) {
    live.add(child)
    this.exited = new Promise((resolve) => {
      child.once('close', (code, signal) => {
        live.delete(child)
        this.exitInfo = { code, signal }
        resolve(this.exitInfo)
        for (const l of [...this.listeners]) l({ msg: '(exited)' })
      })
    })
  }

  static start(opts: RelayProcessOptions = {}): Promise<RelayProcess> {
    return RelayProcess.launch(opts, opts.dataDir ?? tempDataDir(), opts.dataDir === undefined)
  }

  // Same data dir, same options: the restart after a crash. The new process takes over
  // removing the dir if this one would have.
  restart(): Promise<RelayProcess> {
    const owns = this.ownsDir
    this.ownsDir = false
    return RelayProcess.launch(this.options, this.dataDir, owns)
  }

  private static async launch(opts: RelayProcessOptions, dataDir: string, ownsDir: boolean): Promise<RelayProcess> {
    const args = ['serve', '--bind', '127.0.0.1:0', '--metrics-bind', '127.0.0.1:0', '--data-dir', dataDir]
    args.push('--admin-password', opts.adminPassword ?? 'test-admin')
    if (opts.io !== undefined) args.push('--io', opts.io)
    if (opts.plcHost !== undefined) args.push('--plc-host', opts.plcHost)
    if (opts.allowInsecureHosts ?? true) args.push('--allow-insecure-hosts')
    if (opts.lenient === true) args.push('--lenient-sync-validation')
    if (opts.replayWindow !== undefined) args.push('--replay-window', opts.replayWindow)
    if (opts.initialSeq !== undefined) args.push('--initial-seq-number', String(opts.initialSeq))
    if (opts.logLevel !== undefined) args.push('--log-level', opts.logLevel)
    args.push(...(opts.args ?? []))
    // RELAY_NODE_ARGS: extra node flags for the relay process, e.g. '--cpu-prof' to profile it
    // under a test or bench/relay.ts (bench/README.md).
    const nodeArgs = (process.env.RELAY_NODE_ARGS ?? '').split(' ').filter((a) => a !== '')
    const child = spawn(process.execPath, [...nodeArgs, cli, ...args], {
      cwd: packageRoot,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const relay = new RelayProcess(child, dataDir, opts, ownsDir)
    relay.capture()
    try {
      const ready = await relay.waitForLog((l) => l.msg === 'listening', 'the "listening" log line', opts.readyTimeoutMs ?? 30_000)
      if (typeof ready.port !== 'number' || typeof ready.metricsPort !== 'number') {
        throw new Error(`the "listening" line names no bound ports (port, metricsPort): ${JSON.stringify(ready)}`)
      }
      relay.port = ready.port
      relay.metricsPort = ready.metricsPort
    } catch (err) {
      await relay.kill()
      throw err
    }
    return relay
  }

  get httpUrl(): string {
    return `http://127.0.0.1:${this.port}`
  }

  get wsUrl(): string {
    return `ws://127.0.0.1:${this.port}`
  }

  // Resolves with the first log line (already seen or future) for which `match` holds.
  waitForLog(match: (l: RelayLogLine) => boolean, what: string, timeoutMs = 15_000): Promise<RelayLogLine> {
    const seen = this.logs.find(match)
    if (seen !== undefined) return Promise.resolve(seen)
    return new Promise((resolve, reject) => {
      const listener = (line: RelayLogLine): void => {
        if (this.exitInfo !== undefined) {
          done()
          reject(new Error(`relay exited (${JSON.stringify(this.exitInfo)}) before ${what}\n${this.tail()}`))
        } else if (match(line)) {
          done()
          resolve(line)
        }
      }
      const timer = setTimeout(() => {
        done()
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${this.tail()}`))
      }, timeoutMs)
      const done = (): void => {
        clearTimeout(timer)
        this.listeners = this.listeners.filter((l) => l !== listener)
      }
      this.listeners.push(listener)
      if (this.exitInfo !== undefined) listener({})
    })
  }

  // POST /admin/pds/requestCrawl as the admin (HTTP Basic admin:<password>).
  async requestCrawl(hostname: string): Promise<{ status: number; body: string }> {
    const auth = Buffer.from(`admin:${this.options.adminPassword ?? 'test-admin'}`).toString('base64')
    const res = await fetch(`${this.httpUrl}/admin/pds/requestCrawl`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Basic ${auth}` },
      body: JSON.stringify({ hostname }),
    })
    return { status: res.status, body: await res.text() }
  }

  // requestCrawl that must succeed.
  async subscribe(hostname: string): Promise<void> {
    const r = await this.requestCrawl(hostname)
    if (r.status !== 200) throw new Error(`requestCrawl ${hostname}: HTTP ${r.status} ${r.body}\n${this.tail()}`)
  }

  async metrics(): Promise<string> {
    return (await fetch(`http://127.0.0.1:${this.metricsPort}/metrics`)).text()
  }

  // SIGTERM, then SIGKILL if it has not exited within timeoutMs.
  async stop(timeoutMs = 10_000): Promise<ExitInfo> {
    if (this.exitInfo !== undefined) return this.exitInfo
    this.child.kill('SIGTERM')
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs)
    const info = await this.exited
    clearTimeout(timer)
    return info
  }

  // kill -9: no chance to flush or close anything.
  async kill(): Promise<ExitInfo> {
    if (this.exitInfo !== undefined) return this.exitInfo
    this.child.kill('SIGKILL')
    return this.exited
  }

  // Stops the process and removes the data dir if this object made it.
  async dispose(): Promise<void> {
    await this.stop()
    if (this.ownsDir && process.env.RINGLAY_KEEP_DATA === undefined) rmSync(this.dataDir, { recursive: true, force: true })
  }

  // The last log lines and stderr, for failure messages.
  tail(lines = 30): string {
    const out = this.logs.slice(-lines).map((l) => JSON.stringify(l))
    const err = this.stderr.trim()
    return `--- relay log (last ${out.length} lines) ---\n${out.join('\n')}${err === '' ? '' : `\n--- relay stderr ---\n${err.slice(-4000)}`}`
  }

  private capture(): void {
    const rl = createInterface({ input: this.child.stdout! })
    rl.on('line', (text) => {
      let line: RelayLogLine
      try {
        const parsed = JSON.parse(text) as unknown
        line = typeof parsed === 'object' && parsed !== null ? (parsed as RelayLogLine) : { msg: text }
      } catch {
        line = { msg: text, raw: true }
      }
      this.logs.push(line)
      if (this.logs.length > maxKeptLines) this.logs.splice(0, this.logs.length - maxKeptLines / 2)
      for (const l of [...this.listeners]) l(line)
    })
    this.child.stderr!.setEncoding('utf8')
    this.child.stderr!.on('data', (chunk: string) => {
      this.stderr += chunk
      if (this.stderr.length > 100_000) this.stderr = this.stderr.slice(-50_000)
    })
  }
}

// dispose() for every relay given, ignoring ones already gone; for after() hooks.
export async function disposeAll(relays: (RelayProcess | undefined)[]): Promise<void> {
  await Promise.all(relays.map((r) => r?.dispose().catch(() => {})))
}
