import { randomUUID } from 'node:crypto'
import { createTelemetry, parseTraceparent } from '@iotload/otel'
import { requireService } from '@iotload/sdk/testing'
import { describe, expect, it } from 'vitest'
import { newRunId, startRun } from '../engine/run.ts'
import type { RunTelemetry } from '../engine/telemetry-hooks.ts'
import { resolveScenario } from '../scenario/load-scenario.ts'
import { telemetryForRun } from './run-telemetry.ts'
import { eventually } from './test-helpers.ts'

const ZIPKIN = 'http://127.0.0.1:9411'
const mosquitto = await requireService('Mosquitto', '127.0.0.1', 1883)
const zipkin = await requireService('Zipkin', '127.0.0.1', 9411)

interface ZipkinSpan {
  traceId: string
  id: string
  parentId?: string
  name: string
  kind?: string
  timestamp: number
  duration?: number
  localEndpoint?: { serviceName?: string }
  tags?: Record<string, string>
}

describe.skipIf(!mosquitto || !zipkin)('traces in Zipkin', () => {
  it('holds send → bridge → receive spans of one message, the send span starting at its origin timestamp', async () => {
    const diagnostics: string[] = []
    const telemetry = createTelemetry({
      diagnostics: (m, d) => diagnostics.push(`${m} ${JSON.stringify(d ?? {})}`),
      env: {
        OTEL_TRACES_EXPORTER: 'zipkin',
        OTEL_EXPORTER_ZIPKIN_ENDPOINT: `${ZIPKIN}/api/v2/spans`,
        IOTLOAD_TRACE_SAMPLE: '4/s',
      },
    })
    expect(telemetry.tracing?.target).toBe(`zipkin ${ZIPKIN}/api/v2/spans`)
    const ns = `iotload/it-zipkin-${randomUUID().slice(0, 8)}`
    const resolved = await resolveScenario({
      name: 'zipkin traces',
      broker: { plugin: 'mqtt', url: 'mqtt://127.0.0.1:1883', version: '5' },
      producer: {
        devices: 5,
        rate: '10/s',
        duration: '3s',
        warmup: '0s',
        topic: `${ns}/devices/{device}/telemetry`,
        payload: { v: '{int:1:9}' },
        qos: 1,
      },
      bridge: { from: `${ns}/devices/{device}/telemetry`, to: `${ns}/actions/{device}` },
    })
    const id = newRunId()
    const hooks = telemetryForRun(telemetry, resolved, id)
    // What the consumer saw of traced messages: the origin time from the envelope, and the
    // traceparent from the MQTT 5 user properties.
    const traced: Array<{ t: number; dev: number; seq: number; traceparent: string }> = []
    const spy: RunTelemetry = {
      ...hooks,
      onReceive(info) {
        const tp = info.headers?.traceparent
        if (tp) traced.push({ t: info.meta.t, dev: info.meta.dev, seq: info.meta.seq, traceparent: tp })
        hooks.onReceive?.(info)
      },
    }
    const summary = await startRun(resolved, { id, telemetry: spy }).result
    expect(summary.run.status).toBe('completed')
    await telemetry.tracing?.forceFlush()
    // ~4 traced messages per second for 3 s; each must arrive with a traceparent.
    expect(traced.length).toBeGreaterThanOrEqual(8)
    expect(traced.length).toBeLessThanOrEqual(20)

    const msg = traced[Math.floor(traced.length / 2)]!
    const traceId = parseTraceparent(msg.traceparent)!.traceId
    const spans = await eventually(
      async () => {
        const res = await fetch(`${ZIPKIN}/api/v2/trace/${traceId}`)
        if (!res.ok) return undefined
        const s = (await res.json()) as ZipkinSpan[]
        return s.length >= 3 ? s : undefined
      },
      15_000,
      `trace ${traceId} in Zipkin`,
    )
    expect(spans).toHaveLength(3)
    const send = spans.find((s) => s.kind === 'PRODUCER')!
    const bridge = spans.find((s) => s.name.startsWith('process'))!
    const receive = spans.find((s) => s.name.startsWith('receive'))!
    expect(send.name).toBe(`send ${ns}/devices/{device}/telemetry`.toLowerCase())
    expect(send.parentId).toBeUndefined()
    expect(send.timestamp).toBe(msg.t)
    expect(send.tags?.['iotload.device']).toBe(String(msg.dev))
    expect(send.tags?.['iotload.seq']).toBe(String(msg.seq))
    expect(send.tags?.['iotload.run']).toBe(id)
    expect(send.localEndpoint?.serviceName).toBe('iotload')
    expect(bridge.kind).toBe('CONSUMER')
    expect(bridge.parentId).toBe(send.id)
    expect(bridge.timestamp).toBeGreaterThanOrEqual(send.timestamp)
    expect(receive.kind).toBe('CONSUMER')
    expect(receive.parentId).toBe(bridge.id)
    expect(receive.timestamp).toBeGreaterThanOrEqual(bridge.timestamp)
    expect(Number(receive.tags?.['iotload.latency_us'])).toBe(receive.timestamp - msg.t)
    await telemetry.shutdown()
    expect(diagnostics).toEqual([])
  }, 90_000)
})
