import { SpanKind, SpanStatusCode } from '@opentelemetry/api'
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createRunTelemetry } from './run-telemetry.ts'
import { parseTraceparent } from './trace-context.ts'
import { createTracing, type Tracing } from './tracing.ts'

const T0 = 1_764_000_000_123_457 // µs since the epoch, odd on purpose: no ms rounding may hide

function hrToUs(hr: [number, number]): number {
  return hr[0] * 1e6 + hr[1] / 1000
}

let exporter: InMemorySpanExporter
let tracing: Tracing

beforeEach(() => {
  exporter = new InMemorySpanExporter()
  tracing = createTracing({ exporter, simple: true, registerGlobal: false })!
})
afterEach(async () => {
  await tracing.shutdown()
})

const base = {
  run: 'r1',
  system: 'mqtt',
  producerDestination: 'devices/{device}/telemetry',
  consumerDestination: 'actions/+',
  devices: 4,
}

function byName(spans: ReadableSpan[], prefix: string): ReadableSpan {
  const s = spans.find((x) => x.name.startsWith(prefix))
  if (!s) throw new Error(`no ${prefix} span in ${spans.map((x) => x.name).join(', ')}`)
  return s
}

describe('per-message spans', () => {
  it('links send → bridge → receive in one trace; send starts at the origin timestamp', () => {
    const t = createRunTelemetry({ ...base, tracing, sampling: { kind: 'ratio', ratio: 1 } })
    const headers = t.onSend?.({ dev: 3, seq: 7, tUs: T0, tiUs: T0 - 50, topic: 'devices/3/telemetry' })
    expect(headers?.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/)
    t.onPublishSettled?.({ dev: 3, seq: 7, tUs: T0, ackUs: T0 + 400, ok: true })
    const out = t.onBridgeForward?.({
      inTopic: 'devices/3/telemetry',
      outTopic: 'actions/3',
      headers: { ...headers, other: 'kept' },
      hopInUs: T0 + 900,
      hopOutUs: T0 + 1000,
      dev: 3,
      seq: 7,
    })
    expect(out?.other).toBe('kept')
    expect(out?.traceparent).not.toBe(headers?.traceparent)
    t.onReceive?.({
      meta: { dev: 3, seq: 7, t: T0, ti: T0 - 50, hops: [{ in: T0 + 900, out: T0 + 1000 }] },
      recvUs: T0 + 2000,
      topic: 'actions/3',
      headers: out,
    })
    const spans = exporter.getFinishedSpans()
    expect(spans).toHaveLength(3)
    const send = byName(spans, 'send')
    const bridge = byName(spans, 'process')
    const recv = byName(spans, 'receive')
    expect(send.kind).toBe(SpanKind.PRODUCER)
    expect(hrToUs(send.startTime)).toBe(T0)
    expect(hrToUs(send.endTime)).toBe(T0 + 400)
    expect(send.attributes['messaging.destination.name']).toBe('devices/3/telemetry')
    expect(send.attributes['iotload.device']).toBe(3)
    const traceId = send.spanContext().traceId
    expect(parseTraceparent(headers!.traceparent!)?.spanId).toBe(send.spanContext().spanId)
    expect(bridge.spanContext().traceId).toBe(traceId)
    expect(bridge.parentSpanContext?.spanId).toBe(send.spanContext().spanId)
    expect(hrToUs(bridge.startTime)).toBe(T0 + 900)
    expect(hrToUs(bridge.endTime)).toBe(T0 + 1000)
    expect(recv.spanContext().traceId).toBe(traceId)
    expect(recv.parentSpanContext?.spanId).toBe(bridge.spanContext().spanId)
    expect(hrToUs(recv.startTime)).toBe(T0 + 2000)
    expect(recv.attributes['iotload.latency_us']).toBe(2000)
    // One service per role; span names carry templates, never the device's topic.
    expect(spans.map((x) => `${x.resource.attributes['service.name']}: ${x.name}`)).toEqual([
      'iotload-producer: send devices/{device}/telemetry',
      'iotload-bridge: process devices/{device}/telemetry',
      'iotload-consumer: receive actions/+',
    ])
  })

  it('takes the traceparent from the envelope when the protocol has no headers', () => {
    const t = createRunTelemetry({ ...base, tracing, sampling: { kind: 'ratio', ratio: 1 } })
    const h = t.onSend?.({ dev: 1, seq: 1, tUs: T0, tiUs: T0, topic: 'x' })
    t.onReceive?.({
      meta: { dev: 1, seq: 1, t: T0, ti: T0, tp: h!.traceparent! },
      recvUs: T0 + 5,
      topic: 'y',
      headers: undefined,
    })
    const recv = byName(exporter.getFinishedSpans(), 'receive')
    expect(recv.parentSpanContext?.spanId).toBe(parseTraceparent(h!.traceparent!)?.spanId)
  })

  it('marks a failed publish as an error span', () => {
    const t = createRunTelemetry({ ...base, tracing, sampling: { kind: 'ratio', ratio: 1 } })
    t.onSend?.({ dev: 1, seq: 1, tUs: T0, tiUs: T0, topic: 'x' })
    t.onPublishSettled?.({ dev: 1, seq: 1, tUs: T0, ackUs: T0 + 10, ok: false })
    expect(byName(exporter.getFinishedSpans(), 'send').status.code).toBe(SpanStatusCode.ERROR)
  })

  it('ends publish spans still waiting for an ack when the run ends', () => {
    const t = createRunTelemetry({ ...base, tracing, sampling: { kind: 'ratio', ratio: 1 } })
    t.onSend?.({ dev: 1, seq: 1, tUs: T0, tiUs: T0, topic: 'x' })
    expect(exporter.getFinishedSpans()).toHaveLength(0)
    t.onRunEnd?.({ run: { status: 'completed' }, streams: {} })
    expect(exporter.getFinishedSpans()).toHaveLength(1)
  })

  it('creates no bridge or receive span for an untraced message', () => {
    const t = createRunTelemetry({ ...base, tracing, sampling: { kind: 'ratio', ratio: 1 } })
    expect(
      t.onBridgeForward?.({
        inTopic: 'a',
        outTopic: 'b',
        headers: undefined,
        hopInUs: T0,
        hopOutUs: T0,
        dev: 1,
        seq: 1,
      }),
    ).toBeUndefined()
    t.onReceive?.({
      meta: { dev: 1, seq: 1, t: T0, ti: T0 },
      recvUs: T0,
      topic: 'b',
      headers: { traceparent: 'garbage' },
    })
    expect(exporter.getFinishedSpans()).toHaveLength(0)
  })
})

describe('sampling', () => {
  const sendMany = (t: ReturnType<typeof createRunTelemetry>, n: number, stepUs: number) => {
    let traced = 0
    for (let i = 0; i < n; i++) {
      const tUs = T0 + i * stepUs
      const h = t.onSend?.({ dev: i % 4, seq: i, tUs, tiUs: tUs, topic: 'x' })
      if (h) traced++
      t.onPublishSettled?.({ dev: i % 4, seq: i, tUs, ackUs: tUs + 1, ok: true })
    }
    return traced
  }

  it('N per second caps traces whatever the message rate', () => {
    const t = createRunTelemetry({ ...base, tracing, sampling: { kind: 'rate', perSecond: 2 } })
    // 10 s at 1000 msg/s
    expect(sendMany(t, 10_000, 1000)).toBe(20)
    expect(exporter.getFinishedSpans()).toHaveLength(20)
  })

  it('a ratio traces that fraction of messages', () => {
    const t = createRunTelemetry({ ...base, tracing, sampling: { kind: 'ratio', ratio: 0.01 } })
    expect(sendMany(t, 5000, 10)).toBe(50)
  })

  it('off traces nothing and adds no send hook work for spans', () => {
    const t = createRunTelemetry({ ...base, tracing, sampling: { kind: 'off' } })
    expect(sendMany(t, 1000, 10)).toBe(0)
    expect(t.onBridgeForward).toBeUndefined()
    expect(exporter.getFinishedSpans()).toHaveLength(0)
  })

  it('the default (10/s) is what a run without sampling options gets', () => {
    const t = createRunTelemetry({ ...base, tracing })
    expect(sendMany(t, 3000, 1000)).toBe(30)
  })
})
