import { randomUUID } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTelemetry, parseTraceparent } from '@iotload/otel'
import { requireService } from '@iotload/sdk/testing'
import { describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { newRunId, startRun } from '../engine/run.ts'
import type { RunSummary } from '../engine/summary.ts'
import type { RunTelemetry } from '@iotload/sdk'
import { resolveScenario } from '../scenario/load-scenario.ts'
import { telemetryForRun } from './run-telemetry.ts'
import { eventually, runCli } from './test-helpers.ts'

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
  // MQTT 5 carries the traceparent in user properties; MQTT 3.1.1 has no headers, so only the
  // envelope (JSON `tp`, or the binary trace block) can keep the trace together.
  it.each([
    ['5', 'headers', 'json'],
    ['3.1.1', 'the JSON envelope', 'json'],
    ['3.1.1', 'the binary envelope', 'binary'],
  ] as const)(
    'MQTT %s: holds send → bridge → receive spans of one message, linked through %s, the send span starting at its origin timestamp',
    async (version, _carrier, envelope) => {
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
        broker: { plugin: 'mqtt', url: 'mqtt://127.0.0.1:1883', version },
        producer: {
          devices: 5,
          rate: '10/s',
          duration: '3s',
          warmup: '0s',
          topic: `${ns}/devices/{device}/telemetry`,
          payload: { v: '{int:1:9}' },
          envelope,
          qos: 1,
        },
        bridge: { from: `${ns}/devices/{device}/telemetry`, to: `${ns}/actions/{device}` },
      })
      const id = newRunId()
      const hooks = telemetryForRun(telemetry, resolved, id)
      // What the consumer saw of traced messages: the origin time from the envelope, and the
      // traceparent from the MQTT 5 user properties, or (3.1.1) from the envelope alone.
      const traced: Array<{ t: number; dev: number; seq: number; traceparent: string }> = []
      let withHeaders = 0
      const spy: RunTelemetry = {
        ...hooks,
        onReceive(info) {
          // Asserted after the run: an expect() thrown in here would be swallowed by the hook guard.
          if (info.headers) withHeaders++
          const tp = version === '5' ? info.headers?.traceparent : info.meta.tp
          if (tp) traced.push({ t: info.meta.t, dev: info.meta.dev, seq: info.meta.seq, traceparent: tp })
          hooks.onReceive?.(info)
        },
      }
      const summary = await startRun(resolved, { id, telemetry: spy }).result
      expect(summary.run.status).toBe('completed')
      await telemetry.tracing?.forceFlush()
      // ~4 traced messages per second for 3 s; each must arrive with a traceparent.
      expect(traced.length).toBeGreaterThanOrEqual(8)
      // MQTT 3.1.1 has no headers at all: the envelope alone carried the traces.
      if (version === '3.1.1') expect(withHeaders).toBe(0)
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
      // One service per role (Zipkin lower-cases names), so the dependency graph draws the path.
      expect(send.localEndpoint?.serviceName).toBe('iotload-producer')
      expect(bridge.localEndpoint?.serviceName).toBe('iotload-bridge')
      expect(receive.localEndpoint?.serviceName).toBe('iotload-consumer')
      expect(bridge.name).toBe(`process ${ns}/devices/{device}/telemetry`.toLowerCase())
      expect(bridge.kind).toBe('CONSUMER')
      expect(bridge.parentId).toBe(send.id)
      expect(bridge.timestamp).toBeGreaterThanOrEqual(send.timestamp)
      expect(receive.kind).toBe('CONSUMER')
      expect(receive.parentId).toBe(bridge.id)
      expect(receive.timestamp).toBeGreaterThanOrEqual(bridge.timestamp)
      expect(Number(receive.tags?.['iotload.latency_us'])).toBe(receive.timestamp - msg.t)
      await telemetry.shutdown()
      expect(diagnostics).toEqual([])
    },
    90_000,
  )

  it('iotload run with OTEL_TRACES_EXPORTER=zipkin exports complete traces before the CLI exits', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iotload-zipkin-'))
    try {
      const ns = `iotload/it-zipkin-cli-${randomUUID().slice(0, 8)}`
      const scenario = join(dir, 's.yaml')
      writeFileSync(
        scenario,
        stringify({
          name: 'zipkin cli',
          broker: { plugin: 'mqtt', url: 'mqtt://127.0.0.1:1883' },
          producer: {
            devices: 4,
            rate: '10/s',
            duration: '3s',
            warmup: '0s',
            topic: `${ns}/d/{device}`,
            qos: 1,
          },
          bridge: { from: `${ns}/d/{device}`, to: `${ns}/a/{device}` },
        }),
      )
      const out = join(dir, 'summary.json')
      const r = await runCli(['run', scenario, '--json', out, '--db', join(dir, 'r.db'), '-q'], {
        OTEL_TRACES_EXPORTER: 'zipkin',
        OTEL_EXPORTER_ZIPKIN_ENDPOINT: `${ZIPKIN}/api/v2/spans`,
        IOTLOAD_TRACE_SAMPLE: '3/s',
      })
      expect(r.code, r.stderr).toBe(0)
      expect(r.stderr).toContain(`tracing sampled messages to=zipkin ${ZIPKIN}/api/v2/spans`)
      const run = (JSON.parse(readFileSync(out, 'utf8')) as RunSummary).run.id
      const url = `${ZIPKIN}/api/v2/traces?serviceName=iotload-producer&annotationQuery=${encodeURIComponent(`iotload.run=${run}`)}&limit=100&lookback=600000`
      const traces = await eventually(
        async () => {
          const t = (await (await fetch(url)).json()) as ZipkinSpan[][]
          return t.length >= 6 ? t : undefined
        },
        15_000,
        `traces of run ${run}`,
      )
      // ~3 per second for 3 s, each complete: the CLI flushed its spans before exiting.
      expect(traces.length).toBeLessThanOrEqual(15)
      for (const trace of traces)
        expect(trace.map((s) => s.kind ?? 'INTERNAL').sort()).toEqual(['CONSUMER', 'CONSUMER', 'PRODUCER'])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }, 90_000)
})
