import { trace } from '@opentelemetry/api'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { createTelemetry } from './telemetry.ts'
import { type OtlpReceiver, otlpProtoDir, type ReceivedSpan, startOtlpReceiver } from './testing/index.ts'
import { parseTraceparent } from './trace-context.ts'

const protoDir = otlpProtoDir()
const T0 = 1_764_000_000_654_321 // µs, odd on purpose: no ms rounding may hide

function only(spans: ReceivedSpan[], name: string): ReceivedSpan {
  const found = spans.filter((s) => s.name === name)
  expect(found, `${name} in ${spans.map((s) => s.name).join(', ')}`).toHaveLength(1)
  return found[0]!
}

/**
 * Real OTLP export, each transport the standard variables select, into a receiver that decodes
 * the protobuf against the official opentelemetry-proto definitions. This is what Jaeger v2
 * (4317 gRPC, 4318 HTTP) or any collector receives.
 */
describe.skipIf(!protoDir)('OTLP trace export', () => {
  let receiver: OtlpReceiver
  beforeAll(async () => {
    receiver = await startOtlpReceiver(protoDir!)
  })
  afterAll(() => receiver?.close())
  afterEach(() => {
    vi.unstubAllEnvs()
    receiver.spans.length = 0
    receiver.requests.length = 0
  })

  for (const protocol of ['grpc', 'http/protobuf', 'http/json'] as const) {
    it(`${protocol}: a traced message arrives as send → process → receive, one service per role`, async () => {
      // Read by the exporters and the SDK's resource detector from the process environment.
      vi.stubEnv('OTEL_EXPORTER_OTLP_HEADERS', 'x-iotload-test=h1')
      vi.stubEnv('OTEL_RESOURCE_ATTRIBUTES', 'deployment.environment.name=ci,service.namespace=load')
      const diagnostics: string[] = []
      const endpoint = protocol === 'grpc' ? receiver.grpcEndpoint : receiver.httpEndpoint
      const telemetry = createTelemetry({
        diagnostics: (m, d) => diagnostics.push(`${m} ${JSON.stringify(d)}`),
        env: {
          OTEL_TRACES_EXPORTER: 'otlp',
          OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
          OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
          IOTLOAD_TRACE_SAMPLE: '1',
        },
      })
      expect(telemetry.tracing?.target).toContain(`otlp ${protocol} ${endpoint}`)
      const t = telemetry.forRun({
        run: 'otlp-run',
        system: 'mqtt',
        producerDestination: 'devices/{device}/telemetry',
        bridgeSource: 'devices/{device}/telemetry',
        consumerDestination: 'actions/+',
        devices: 1,
      })
      const headers = t.onSend?.({ dev: 7, seq: 1, tUs: T0, tiUs: T0 - 10, topic: 'devices/7/telemetry' })
      t.onPublishSettled?.({ dev: 7, seq: 1, tUs: T0, ackUs: T0 + 250, ok: true })
      const bridged = t.onBridgeForward?.({
        inTopic: 'devices/7/telemetry',
        outTopic: 'actions/7',
        headers,
        hopInUs: T0 + 400,
        hopOutUs: T0 + 450,
        dev: 7,
        seq: 1,
      })
      t.onReceive?.({
        meta: { dev: 7, seq: 1, t: T0, ti: T0 - 10 },
        recvUs: T0 + 900,
        topic: 'actions/7',
        headers: bridged,
      })
      // A plugin's own span through @opentelemetry/api reaches the same pipeline (sdk-node is global).
      trace.getTracer('some-plugin').startSpan('plugin work').end()
      t.onRunEnd?.({ run: { status: 'completed' }, streams: {} })
      await telemetry.shutdown()

      expect(diagnostics).toEqual([])
      const spans = receiver.spans
      expect(spans.every((s) => s.transport === protocol)).toBe(true)
      expect(receiver.requests.every((r) => r.headers['x-iotload-test'] === 'h1')).toBe(true)
      const send = only(spans, 'send devices/{device}/telemetry')
      const process = only(spans, 'process devices/{device}/telemetry')
      const receive = only(spans, 'receive actions/+')
      expect([send.service, process.service, receive.service]).toEqual([
        'iotload-producer',
        'iotload-bridge',
        'iotload-consumer',
      ])
      expect(send.resource).toMatchObject({
        'deployment.environment.name': 'ci',
        'service.namespace': 'load',
      })
      expect([send.kind, process.kind, receive.kind]).toEqual([4, 5, 5])
      expect(send.spanId).toBe(parseTraceparent(headers!.traceparent!)?.spanId)
      expect(new Set([send.traceId, process.traceId, receive.traceId]).size).toBe(1)
      expect(process.parentSpanId).toBe(send.spanId)
      expect(receive.parentSpanId).toBe(process.spanId)
      expect(BigInt(send.startTimeUnixNano)).toBe(BigInt(T0) * 1000n)
      expect(BigInt(send.endTimeUnixNano)).toBe(BigInt(T0 + 250) * 1000n)
      expect(send.attributes).toMatchObject({
        'messaging.system': 'mqtt',
        'messaging.destination.name': 'devices/7/telemetry',
        'messaging.destination.template': 'devices/{device}/telemetry',
        'iotload.run': 'otlp-run',
        'iotload.device': 7,
      })
      expect(receive.attributes).toMatchObject({
        'messaging.destination.name': 'actions/7',
        'iotload.latency_us': 900,
      })
      expect(only(spans, 'plugin work').service).toBe('iotload')
    })
  }

  it('OTEL_SERVICE_NAME renames every role', async () => {
    const telemetry = createTelemetry({
      diagnostics: () => {},
      env: {
        OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint,
        OTEL_SERVICE_NAME: 'fleet-a',
        IOTLOAD_TRACE_SAMPLE: '1',
      },
    })
    const t = telemetry.forRun({ run: 'r', system: 'nats', producerDestination: 'd.{device}', devices: 1 })
    t.onSend?.({ dev: 1, seq: 1, tUs: T0, tiUs: T0, topic: 'd.1' })
    t.onPublishSettled?.({ dev: 1, seq: 1, tUs: T0, ackUs: T0 + 1, ok: true })
    await telemetry.shutdown()
    expect(receiver.spans.map((s) => `${s.service} ${s.name}`)).toEqual(['fleet-a-producer send d.{device}'])
  })
})
