// The metrics listener (--metrics-bind, default :2471): GET /metrics on plain node:http, kept
// off the relay's own front door so a scrape never competes with the firehose transport.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { RelayMetrics } from '../metrics.js'
import { logger } from '../logger.js'

export interface MetricsServer {
  port: number
  close(): Promise<void>
}

export async function startMetricsServer(metrics: RelayMetrics, host: string, port: number): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /metrics\n')
      return
    }
    metrics.text().then(
      (body) => res.writeHead(200, { 'content-type': metrics.contentType }).end(body),
      (err: unknown) => {
        logger.error('metrics', 'collect failed', { err: String(err) })
        res.writeHead(500, { 'content-type': 'text/plain' }).end('collect failed\n')
      },
    )
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
