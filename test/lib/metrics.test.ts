// GET /metrics on the metrics port: valid Prometheus text with process metrics, the
// transport's native counters and the transport info gauge, on every transport.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { startMetricsServer } from '../../lib/http/metrics-server.js'
import { RelayMetrics } from '../../lib/metrics.js'
import { parsePrometheus, sampleValue } from '../helpers/prometheus.js'
import { transportVariants, until } from '../helpers/transports.js'
import { RawConsumer } from '../helpers/ws-consumer.js'

const nativeCounters = [
  'relay_io_submissions_total',
  'relay_io_completions_total',
  'relay_io_bytes_in_total',
  'relay_io_bytes_out_total',
]
const nativeGauges = ['relay_connections_open', 'relay_consumers', 'relay_consumer_queued_send_bytes']

for (const v of transportVariants()) {
  describe(`metrics: ${v.name}`, { skip: v.skip }, () => {
    test('GET /metrics is valid Prometheus text with the native counters and the transport', async () => {
      const transport = await v.create()
      const metrics = new RelayMetrics()
      metrics.setTransport(transport)
      const { port } = await transport.listen({ host: '127.0.0.1', port: 0, handler: () => ({ status: 200, body: 'x' }) })
      const server = await startMetricsServer(metrics, '127.0.0.1', 0)
      const received: Buffer[] = []
      const consumer = await RawConsumer.connect({ port, onMessage: (m) => received.push(m) })
      try {
        await until(() => transport.stats().consumers === 1, 'consumer open')
        transport.broadcast([Buffer.alloc(1000, 7)])
        await until(() => received.length === 1, 'frame')
        const res = await fetch(`http://127.0.0.1:${server.port}/metrics`)
        assert.equal(res.status, 200)
        assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/)
        const families = parsePrometheus(await res.text())
        for (const name of nativeCounters) assert.equal(families.get(name)?.type, 'counter', name)
        for (const name of nativeGauges) assert.equal(families.get(name)?.type, 'gauge', name)
        assert.equal(sampleValue(families, 'relay_transport_info', { transport: v.kind }), 1)
        assert.equal(families.get('relay_transport_info')?.samples.length, 1)
        assert.ok((sampleValue(families, 'relay_io_bytes_out_total') ?? 0) >= 1000)
        assert.ok((sampleValue(families, 'relay_io_submissions_total') ?? 0) >= 1)
        assert.equal(sampleValue(families, 'relay_consumers'), 1)
        assert.ok((sampleValue(families, 'relay_connections_open') ?? 0) >= 1)
        assert.ok((sampleValue(families, 'process_resident_memory_bytes') ?? 0) > 0)
        assert.equal((await fetch(`http://127.0.0.1:${server.port}/other`)).status, 404)
      } finally {
        consumer.socket.destroy()
        await Promise.all([transport.close(), server.close()])
      }
    })
  })
}

test('counters fed from transport totals only grow by what changed', async () => {
  let bytesOut = 100
  const fake = {
    kind: 'uws' as const,
    stats: () => ({ submissions: 0, completions: 0, bytesIn: 0, bytesOut, connectionsOpen: 0, consumers: 0, queuedSendBytes: 0, ringEntries: 64 }),
  }
  const metrics = new RelayMetrics()
  metrics.setTransport(fake as never)
  const first = parsePrometheus(await metrics.text())
  assert.equal(sampleValue(first, 'relay_io_bytes_out_total'), 100)
  assert.equal(sampleValue(first, 'relay_transport_stat', { name: 'ringEntries' }), 64)
  bytesOut = 250
  await new Promise((r) => setTimeout(r, 300)) // past the snapshot's lifetime
  assert.equal(sampleValue(parsePrometheus(await metrics.text()), 'relay_io_bytes_out_total'), 250)
})
