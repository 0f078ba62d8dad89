// JSON-lines logger for the whole process, including records drained from native threads
// (they never print themselves; see native/util/log.h).
export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

const order: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 }
let minLevel: LogLevel = (process.env.RELAY_LOG_LEVEL as LogLevel | undefined) ?? 'info'
let sink: (line: string) => void = (line) => process.stdout.write(line + '\n')

export function setLogLevel(level: LogLevel): void {
  minLevel = level
}

// Tests capture log lines instead of printing them.
export function setLogSink(fn: (line: string) => void): void {
  sink = fn
}

export function log(level: LogLevel, component: string, msg: string, fields: Record<string, unknown> = {}): void {
  if (order[level] < order[minLevel]) return
  sink(JSON.stringify({ time: new Date().toISOString(), level, component, msg, ...fields }))
}

export const logger = {
  debug: (component: string, msg: string, fields?: Record<string, unknown>) => log('debug', component, msg, fields),
  info: (component: string, msg: string, fields?: Record<string, unknown>) => log('info', component, msg, fields),
  warn: (component: string, msg: string, fields?: Record<string, unknown>) => log('warn', component, msg, fields),
  error: (component: string, msg: string, fields?: Record<string, unknown>) => log('error', component, msg, fields),
}

interface NativeLogs {
  takeLogs(): { records: { level: LogLevel; time: number; component: string; msg: string }[]; dropped: number }
}

// Writes every pending native record; called by the transports on each event batch and on
// a timer, so native logs appear within a fraction of a second.
export function drainNativeLogs(native: NativeLogs): void {
  const { records, dropped } = native.takeLogs()
  for (const r of records) {
    if (order[r.level] < order[minLevel]) continue
    sink(JSON.stringify({ time: new Date(r.time).toISOString(), level: r.level, component: r.component, msg: r.msg }))
  }
  if (dropped > 0) log('warn', 'native', 'native log records dropped', { dropped })
}
