import { createServer, type IncomingMessage } from 'node:http'
import { describe, expect, it } from 'vitest'
import { createTelemetry } from './telemetry.ts'
import { parseTraceparent } from './trace-context.ts'

interface OtlpSpan {
  traceId: string
  spanId: string
  parentSpanId?: string
  name: string
  startTimeUnixNano: string | number
}

function body(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let s = ''
    req.on('data', (d) => {
      s += d
    })
    req.on('end', () => resolve(s))
  })
}

/**
 * The OTLP path as Jaeger would see it: OTEL_EXPORTER_OTLP_ENDPOINT alone turns tracing on and
 * spans arrive at <endpoint>/v1/traces as OTLP/HTTP JSON. (The real-backend proof is the Zipkin
 * integration test; this checks the standard-variable wiring and the nanosecond start time.)
 */
describe('OTLP export configured by OTEL_EXPORTER_OTLP_ENDPOINT', () => {
  it('posts the send span to /v1/traces with the origin timestamp in ns', async () => {
    const received: Array<{ path: string; spans: OtlpSpan[] }> = []
    const server = createServer(async (req, res) => {
      const doc = JSON.parse(await body(req)) as {
        resourceSpans: Array<{ scopeSpans: Array<{ spans: OtlpSpan[] }> }>
      }
      received.push({
        path: req.url ?? '',
        spans: doc.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)),
      })
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const port = (server.address() as { port: number }).port
    try {
      const diagnostics: string[] = []
      const telemetry = createTelemetry({
        diagnostics: (m, d) => diagnostics.push(`${m} ${JSON.stringify(d)}`),
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, IOTLOAD_TRACE_SAMPLE: '1' },
      })
      const t = telemetry.forRun({
        run: 'otlp',
        system: 'mqtt',
        producerDestination: 'd/{device}',
        devices: 1,
      })
      const tUs = 1_764_000_000_654_321
      const headers = t.onSend?.({ dev: 1, seq: 1, tUs, tiUs: tUs, topic: 'd/1' })
      t.onPublishSettled?.({ dev: 1, seq: 1, tUs, ackUs: tUs + 250, ok: true })
      await telemetry.shutdown()
      expect(diagnostics).toEqual([])
      expect(received.map((r) => r.path)).toEqual(['/v1/traces'])
      const [span] = received[0]!.spans
      expect(span?.name).toBe('send d/{device}')
      expect(span?.spanId).toBe(parseTraceparent(headers!.traceparent!)?.spanId)
      expect(BigInt(span!.startTimeUnixNano)).toBe(BigInt(tUs) * 1000n)
    } finally {
      server.close()
    }
  })
})
