// `ringlay serve`: config → transport → state DB → relay pipeline → control plane (identity,
// policy, hosts, requestCrawl) → router → metrics, then run until SIGINT/SIGTERM.
import { mkdirSync, readFileSync } from 'node:fs'
import { type Config, parseBind } from './config.js'
import { startMetricsServer } from './http/metrics-server.js'
import { Router } from './http/router.js'
import { logger, setLogLevel, type LogLevel } from './logger.js'
import { tuneAllocator } from './native.js'
import { RelayMetrics } from './metrics.js'
import { ControlPlane } from './relay/control-plane.js'
import { createPipeline } from './relay/pipeline.js'
import { recoverAccountState } from './relay/recovery.js'
import type { NativeRelayPipeline } from './relay/pipeline.js'
import { routes } from './routes/index.js'
import { openStateDb } from './db/database.js'
import type { StateDb } from './db/database.js'
import { TransportUnavailableError, selectTransport } from './transport/select.js'
import type { Transport } from './transport/types.js'

export interface Relay {
  transport: Transport
  metrics: RelayMetrics
  state: StateDb
  control: ControlPlane
  port: number
  metricsPort: number
  close(): Promise<void>
}

export async function startRelay(config: Config): Promise<Relay> {
  mkdirSync(config.dataDir, { recursive: true })
  if (!tuneAllocator()) logger.info('serve', 'allocator tuning refused (sanitizer build?): glibc malloc defaults')
  const extraCaPem = config.caFile === undefined ? undefined : readFileSync(config.caFile, 'utf8')
  const bind = parseBind(config.bind)
  const metricsBind = parseBind(config.metricsBind)
  const transport = await selectTransport(config.io, extraCaPem === undefined ? {} : { extraCaPem })
  const metrics = new RelayMetrics()
  metrics.setTransport(transport)
  let state: StateDb | undefined
  let pipeline: NativeRelayPipeline | undefined
  let control: ControlPlane | undefined
  try {
    state = openStateDb({ dataDir: config.dataDir })
    // Account state catches up with what the log holds (events written just before a crash).
    recoverAccountState(state, { dataDir: config.dataDir, initialSeq: config.initialSeqNumber, replayWindowMs: config.replayWindowMs })
    pipeline = createPipeline({
      transport,
      dataDir: config.dataDir,
      lenient: config.lenientSyncValidation,
      replayWindowMs: config.replayWindowMs,
      maxDiskBytes: config.replayMaxBytes,
      initialSeq: config.initialSeqNumber,
    })
    // ?cursor= replay and slow consumers' catch-up read the pipeline's event log (attaching
    // to the io_uring transport already told it).
    if (!pipeline.routesNatively) transport.setReplayLog(pipeline.nativePipeline)
    control = new ControlPlane({ config, state, transport, pipeline, metrics })
    const router = new Router([...routes, ...control.routes], (route, status) => metrics.httpRequests.inc({ route, status }))
    const { port } = await transport.listen({
      ...bind,
      handler: router.handle,
      onConsumerClose: (info) => metrics.consumerCloses.inc({ reason: info.reason }),
    })
    const metricsServer = await startMetricsServer(metrics, metricsBind.host, metricsBind.port)
    control.start()
    const db = state
    const plane = control
    return {
      transport,
      metrics,
      state: db,
      control: plane,
      port,
      metricsPort: metricsServer.port,
      // Upstreams first, then the pipeline (it writes what it holds), cursors, consumers, SQLite.
      close: async () => {
        await plane.close()
        await Promise.all([transport.close(), metricsServer.close()])
        db.close()
      },
    }
  } catch (err) {
    if (control !== undefined) await control.close().catch(() => {})
    else await pipeline?.close().catch(() => {})
    await transport.close()
    state?.close()
    throw err
  }
}

export async function serve(config: Config): Promise<number> {
  setLogLevel(config.logLevel as LogLevel)
  let relay: Relay
  try {
    relay = await startRelay(config)
  } catch (err) {
    // Expected start-up failures get one line naming the cause; anything else is a bug and
    // reaches the CLI's fatal handler with its stack.
    const code = (err as { code?: unknown }).code
    if (!(err instanceof TransportUnavailableError) && typeof code !== 'string') throw err
    const what = err instanceof TransportUnavailableError ? `--io ${config.io}` : 'cannot start'
    logger.error('serve', 'cannot start', { code, reason: (err as Error).message })
    console.error(`ringlay: ${what}: ${(err as Error).message}`)
    return 1
  }
  logger.info('serve', 'listening', {
    transport: relay.transport.kind,
    bind: config.bind,
    port: relay.port,
    metricsPort: relay.metricsPort,
    dataDir: config.dataDir,
  })
  const signal = await new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'))
    process.once('SIGTERM', () => resolve('SIGTERM'))
  })
  logger.info('serve', 'shutting down', { signal })
  await relay.close()
  logger.info('serve', 'stopped')
  return 0
}
