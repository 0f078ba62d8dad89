// Every command-line flag and environment variable, in one table: parsing, defaults and
// `--help` all come from it, so the help text cannot drift from what the code reads.
import { parseArgs } from 'node:util'

export type IoMode = 'auto' | 'uring' | 'uws'

export interface Config {
  bind: string
  metricsBind: string
  io: IoMode
  caFile: string | undefined
  dataDir: string
  logLevel: string
  plcHost: string
  allowInsecureHosts: boolean
}

interface Option {
  flag: string
  key: keyof Config
  env?: string
  kind: 'string' | 'boolean'
  default?: string | boolean
  help: string
}

export const options: Option[] = [
  { flag: 'bind', key: 'bind', env: 'RELAY_BIND', kind: 'string', default: ':2470', help: 'address for the firehose, XRPC and admin API ([host]:port)' },
  { flag: 'metrics-bind', key: 'metricsBind', env: 'RELAY_METRICS_BIND', kind: 'string', default: ':2471', help: 'address for Prometheus GET /metrics ([host]:port)' },
  { flag: 'io', key: 'io', env: 'RELAY_IO', kind: 'string', default: 'auto', help: 'transport: auto (io_uring, else uWebSockets.js), uring (fail if unavailable), uws' },
  { flag: 'ca-file', key: 'caFile', env: 'RELAY_CA_FILE', kind: 'string', help: 'extra PEM CA certificates trusted for wss:// upstreams (besides Node\'s root CAs)' },
  { flag: 'data-dir', key: 'dataDir', env: 'RELAY_DATA_DIR', kind: 'string', default: './data', help: 'directory for SQLite state and the event log' },
  { flag: 'log-level', key: 'logLevel', env: 'RELAY_LOG_LEVEL', kind: 'string', default: 'info', help: 'debug, info, warn or error' },
  { flag: 'plc-host', key: 'plcHost', env: 'RELAY_PLC_HOST', kind: 'string', default: 'https://plc.directory', help: 'PLC directory for did:plc resolution (trusted even on a private or loopback address)' },
  { flag: 'allow-insecure-hosts', key: 'allowInsecureHosts', env: 'RELAY_ALLOW_INSECURE_HOSTS', kind: 'boolean', default: false, help: 'allow ws:// hosts, localhost:PORT and loopback addresses (tests and local development only)' },
]

export class ConfigError extends Error {
  override name = 'ConfigError'
}

export function parseConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): Config {
  const spec: Record<string, { type: 'string' | 'boolean' }> = {}
  for (const o of options) spec[o.flag] = { type: o.kind }
  let values: Record<string, string | boolean | undefined>
  try {
    values = parseArgs({ args: argv, options: spec, strict: true, allowPositionals: false }).values
  } catch (err) {
    throw new ConfigError((err as Error).message)
  }
  const out: Record<string, unknown> = {}
  for (const o of options) {
    let v: string | boolean | undefined = values[o.flag]
    if (v === undefined && o.env !== undefined && env[o.env] !== undefined) {
      const raw = env[o.env] as string
      v = o.kind === 'boolean' ? raw === '1' || raw.toLowerCase() === 'true' : raw
    }
    out[o.key] = v ?? o.default
  }
  const cfg = out as unknown as Config
  if (!['auto', 'uring', 'uws'].includes(cfg.io)) throw new ConfigError(`--io must be auto, uring or uws (got ${cfg.io})`)
  return cfg
}

export function helpText(): string {
  const lines = ['Usage: ringlay serve [options]', '', 'Options:']
  for (const o of options) {
    const name = o.kind === 'boolean' ? `--${o.flag}` : `--${o.flag} <value>`
    const extra = [o.env ? `env ${o.env}` : '', o.default !== undefined && o.default !== false ? `default ${String(o.default)}` : '']
      .filter(Boolean)
      .join(', ')
    lines.push(`  ${name.padEnd(34)} ${o.help}${extra ? ` (${extra})` : ''}`)
  }
  lines.push('  --help'.padEnd(36) + ' show this text')
  return lines.join('\n')
}

// "[host]:port" → { host, port }; an empty host means all interfaces.
export function parseBind(bind: string): { host: string; port: number } {
  const i = bind.lastIndexOf(':')
  if (i < 0) throw new ConfigError(`bind address needs a port: ${bind}`)
  const host = bind.slice(0, i).replace(/^\[|\]$/g, '')
  const port = Number(bind.slice(i + 1))
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`bad port in ${bind}`)
  return { host: host === '' ? '0.0.0.0' : host, port }
}
