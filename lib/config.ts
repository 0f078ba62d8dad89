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
  adminPassword: string | undefined
  lenientSyncValidation: boolean
  replayWindowMs: number
  replayMaxBytes: number
  initialSeqNumber: number
  defaultAccountLimit: number
  newHostsPerDayLimit: number
}

interface Option {
  flag: string
  key: keyof Config
  env?: string
  // integer: a non-negative whole number; duration: 72h, 30m, 1h30m, 45s, 500ms, 2d (→ ms);
  // bytes: a whole number with an optional K, M, G or T suffix (powers of 1024).
  kind: 'string' | 'boolean' | 'integer' | 'duration' | 'bytes'
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
  { flag: 'admin-password', key: 'adminPassword', env: 'RELAY_ADMIN_PASSWORD', kind: 'string', help: 'password for /admin/* (HTTP Basic, user admin); a random one is generated and logged when unset' },
  { flag: 'lenient-sync-validation', key: 'lenientSyncValidation', env: 'RELAY_LENIENT_SYNC_VALIDATION', kind: 'boolean', default: false, help: 'accept legacy commits (no prevData, update/delete ops without prev) instead of dropping them' },
  { flag: 'replay-window', key: 'replayWindowMs', env: 'RELAY_REPLAY_WINDOW', kind: 'duration', default: '72h', help: 'how long events stay in the log for cursor replay (e.g. 72h, 30m)' },
  { flag: 'replay-max-bytes', key: 'replayMaxBytes', env: 'RELAY_REPLAY_MAX_BYTES', kind: 'bytes', default: '0', help: 'also drop the oldest log segments once the log exceeds this size (e.g. 200G); 0: no byte cap' },
  { flag: 'initial-seq-number', key: 'initialSeqNumber', env: 'RELAY_INITIAL_SEQ_NUMBER', kind: 'integer', default: '1', help: 'lowest seq the relay assigns (a new relay can start above an old one); must be > 0' },
  { flag: 'default-account-limit', key: 'defaultAccountLimit', env: 'RELAY_DEFAULT_ACCOUNT_LIMIT', kind: 'integer', default: '100', help: 'accounts a new host may have before further new accounts are host-throttled' },
  { flag: 'new-hosts-per-day-limit', key: 'newHostsPerDayLimit', env: 'RELAY_NEW_HOSTS_PER_DAY_LIMIT', kind: 'integer', default: '50', help: 'new hosts public requestCrawl may add per 24 h (admin requests are not limited)' },
]

export class ConfigError extends Error {
  override name = 'ConfigError'
}

export function parseConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): Config {
  const spec: Record<string, { type: 'string' | 'boolean' }> = {}
  for (const o of options) spec[o.flag] = { type: o.kind === 'boolean' ? 'boolean' : 'string' }
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
    out[o.key] = convert(o, v ?? o.default)
  }
  const cfg = out as unknown as Config
  if (!['auto', 'uring', 'uws'].includes(cfg.io)) throw new ConfigError(`--io must be auto, uring or uws (got ${cfg.io})`)
  if (cfg.initialSeqNumber < 1) throw new ConfigError('--initial-seq-number must be > 0')
  if (cfg.replayWindowMs <= 0) throw new ConfigError('--replay-window must be longer than 0')
  return cfg
}

function convert(o: Option, v: string | boolean | undefined): unknown {
  if (v === undefined || typeof v === 'boolean' || o.kind === 'string') return v
  if (o.kind === 'integer') {
    if (!/^[0-9]{1,15}$/.test(v)) throw new ConfigError(`--${o.flag} must be a whole number (got ${v})`)
    return Number(v)
  }
  if (o.kind === 'bytes') {
    const n = parseBytes(v)
    if (n === undefined) throw new ConfigError(`--${o.flag} must be a size like 500M, 200G or 1T (got ${v})`)
    return n
  }
  const ms = parseDuration(v)
  if (ms === undefined) throw new ConfigError(`--${o.flag} must be a duration like 72h, 30m or 1h30m (got ${v})`)
  return ms
}

const durationUnitsMs: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

// "72h", "30m", "1h30m", "500ms" → milliseconds; undefined when it is not such a duration.
export function parseDuration(text: string): number | undefined {
  if (!/^([0-9]+(ms|s|m|h|d))+$/.test(text)) return undefined
  let ms = 0
  for (const m of text.matchAll(/([0-9]+)(ms|s|m|h|d)/g)) ms += Number(m[1]) * (durationUnitsMs[m[2] as string] as number)
  return ms
}

const byteUnits: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 }

// "200G", "500M", "4096" → bytes; undefined when it is not such a size.
export function parseBytes(text: string): number | undefined {
  const m = /^([0-9]{1,12})([KMGT]?)B?$/i.exec(text)
  if (m === null) return undefined
  return Number(m[1]) * (byteUnits[(m[2] as string).toUpperCase()] as number)
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
