// `ringlay serve`: config → transport → router → metrics, then run until SIGINT/SIGTERM.
import { mkdirSync, readFileSync } from 'node:fs'
import { type Config, parseBind } from './config.js'
import { startMetricsServer } from './http/metrics-server.js'
import { Router } from './http/router.js'
import { logger, setLogLevel, type LogLevel } from './logger.js'
import { RelayMetrics } from './metrics.js'
import { routes } from './routes/index.js'
import { TransportUnavailableError, selectTransport } from './transport/select.js'
import type { Transport } from './transport/types.js'

export interface Relay {
  transport: Transport
  metrics: RelayMetrics
  port: number
  metricsPort: number
  close(): Promise<void>
}

export async function startRelay(config: Config): Promise<Relay> {
  mkdirSync(config.dataDir, { recursive: true })
  const extraCaPem = config.caFile === undefined ? undefined : readFileSync(config.caFile, 'utf8')
  const bind = parseBind(config.bind)
  const metricsBind = parseBind(config.metricsBind)
  const transport = await selectTransport(config.io, extraCaPem === undefined ? {} : { extraCaPem })
  const metrics = new RelayMetrics()
  metrics.setTransport(transport)
  const router = new Router(routes, (route, status) => metrics.httpRequests.inc({ route, status }))
  try {
    const { port } = await transport.listen({
      ...bind,
      handler: router.handle,
      onConsumerClose: (info) => metrics.consumerCloses.inc({ reason: info.reason }),
    })
    const metricsServer = await startMetricsServer(metrics, metricsBind.host, metricsBind.port)
    return {
      transport,
      metrics,
      port,
      metricsPort: metricsServer.port,
      close: async () => {
        await Promise.all([transport.close(), metricsServer.close()])
      },
    }
  } catch (err) {
    await transport.close()
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
