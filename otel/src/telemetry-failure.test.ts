import { createServer } from 'node:net'
import { describe, expect, it } from 'vitest'
import { createTelemetry } from './telemetry.ts'

/** A port nothing listens on: bind, note it, release. */
async function deadPort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  const port = (s.address() as { port: number }).port
  await new Promise((r) => s.close(r))
  return port
}

describe('telemetry failures', () => {
  it.each([
    ['http/protobuf', (port: number) => `http://127.0.0.1:${port}/v1/traces`, 'ECONNREFUSED'],
    ['grpc', (port: number) => `http://127.0.0.1:${port}`, 'UNAVAILABLE'],
  ] as const)(
    'an unreachable OTLP collector (%s) goes to the diagnostic log; hooks keep working',
    async (protocol, url, error) => {
      const port = await deadPort()
      const diagnostics: string[] = []
      const telemetry = createTelemetry({
        diagnostics: (m, d) => diagnostics.push(`${m} ${JSON.stringify(d ?? {})}`),
        env: {
          OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
          OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
          OTEL_EXPORTER_OTLP_TIMEOUT: '2000',
          IOTLOAD_TRACE_SAMPLE: '1',
        },
      })
      expect(telemetry.tracing?.target).toBe(`otlp ${protocol} ${url(port)}`)
      const t = telemetry.forRun({
        run: 'dead',
        system: 'mqtt',
        producerDestination: 'd/{device}',
        devices: 1,
      })
      const tUs = Date.now() * 1000
      for (let i = 0; i < 20; i++) {
        const h = t.onSend?.({ dev: 1, seq: i, tUs, tiUs: tUs, topic: 'd/1' })
        expect(h?.traceparent).toBeDefined()
        t.onPublishSettled?.({ dev: 1, seq: i, tUs, ackUs: tUs + 10, ok: true })
      }
      await expect(telemetry.tracing!.forceFlush()).resolves.toBeUndefined()
      await expect(telemetry.shutdown()).resolves.toBeUndefined()
      expect(diagnostics.join('\n')).toContain(error)
    },
    20_000,
  )

  it('bad environment values warn and fall back instead of throwing', () => {
    const diagnostics: string[] = []
    const telemetry = createTelemetry({
      diagnostics: (m) => diagnostics.push(m),
      env: { OTEL_TRACES_EXPORTER: 'carrier-pigeon', IOTLOAD_TRACE_SAMPLE: 'sometimes' },
    })
    expect(telemetry.tracing).toBeUndefined()
    expect(telemetry.sampling).toEqual({ kind: 'rate', perSecond: 10 })
    expect(diagnostics).toHaveLength(2)
  })
})
