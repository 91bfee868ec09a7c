import { randomUUID } from 'node:crypto'
import { createTelemetry, type Telemetry } from '@iotload/otel'
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base'
import { isPortOpen } from '@iotload/sdk/testing'
import { startRun } from '../../daemon/src/engine/run.ts'
import { createLogger } from '../../daemon/src/log/logger.ts'
import { resolveScenario } from '../../daemon/src/scenario/load-scenario.ts'
import { telemetryForRun } from '../../daemon/src/telemetry/run-telemetry.ts'
import { sustained } from '../lib/in-process-run.ts'
import type { BenchFigure, BenchSuite } from '../lib/types.ts'

const URL = 'mqtt://127.0.0.1:1883'
const DEVICES = 10
const MEASURE_S = 5
const WARMUP_S = 1
const STEPS = 5
const FIRST_PROBE = 4000
const CEILING = 12_000

/**
 * Telemetry as a user would run it: the Prometheus registry scraped once a second, and traces at
 * the default sampling (10/s) exported to Zipkin when it runs on 127.0.0.1:9411, else kept in
 * memory (the span work is the same; only the HTTP export is missing).
 */
async function telemetryOn(): Promise<{ telemetry: Telemetry; exportTo: string }> {
  const zipkin = await isPortOpen('127.0.0.1', 9411, 500)
  const telemetry = createTelemetry({
    diagnostics: () => {},
    env: zipkin ? { OTEL_TRACES_EXPORTER: 'zipkin' } : {},
    ...(zipkin ? {} : { tracing: { exporter: new InMemorySpanExporter() } }),
  })
  return { telemetry, exportTo: zipkin ? 'Zipkin' : 'an in-memory exporter (Zipkin not running)' }
}

/** One bridged MQTT 5 run (producer → Mosquitto → bridge → Mosquitto → consumer) at `totalRate`. */
async function trial(totalRate: number, telemetry: Telemetry | undefined) {
  const ns = `bench/otel/${randomUUID().slice(0, 8)}`
  const resolved = await resolveScenario(
    {
      name: 'bench-otel',
      broker: { plugin: 'mqtt', url: URL, version: '5' },
      producer: {
        devices: DEVICES,
        totalRate: `${Math.round(totalRate)}/s`,
        duration: `${MEASURE_S}s`,
        warmup: `${WARMUP_S}s`,
        topic: `${ns}/d/{device}`,
        payload: { v: '{float:0:100:2}', pad: 'x'.repeat(60) },
        qos: 0,
      },
      bridge: { from: `${ns}/d/{device}`, to: `${ns}/a/{device}` },
      run: { drain: '3s' },
    },
    { env: {} },
  )
  const id = randomUUID().replaceAll('-', '').slice(0, 12)
  const scrape = telemetry ? setInterval(() => void telemetry.metricsProvider(), 1000) : undefined
  try {
    const summary = await startRun(resolved, {
      id,
      logger: createLogger({ level: 'error' }),
      ...(telemetry ? { telemetry: telemetryForRun(telemetry, resolved, id) } : {}),
    }).result
    return sustained(summary, totalRate)
  } finally {
    if (scrape) clearInterval(scrape)
  }
}

/**
 * iotload's max sustained e2e rate with telemetry on (metrics + default trace sampling) as a
 * ratio to telemetry off, both searched in the same run with their trials interleaved so that
 * machine load drifts affect both alike.
 */
const suite: BenchSuite = {
  name: 'otel',
  requires: [{ name: 'Mosquitto', host: '127.0.0.1', port: 1883 }],
  async run(): Promise<BenchFigure[]> {
    const { telemetry, exportTo } = await telemetryOn()
    const search = () => ({ lo: 0, hi: CEILING, probe: FIRST_PROBE, best: 0, log: [] as string[] })
    const off = search()
    const on = search()
    try {
      for (let i = 0; i < STEPS; i++) {
        for (const [s, t] of [
          [off, undefined],
          [on, telemetry],
        ] as const) {
          const r = await trial(s.probe, t)
          s.log.push(`${r.ok ? 'ok' : 'FAIL'} ${r.detail}`)
          if (r.ok) {
            s.best = Math.max(s.best, s.probe)
            s.lo = s.probe
          } else s.hi = s.probe
          s.probe = (s.lo + s.hi) / 2
        }
      }
    } finally {
      await telemetry.shutdown()
    }
    const ratio = off.best > 0 ? on.best / off.best : 0
    return [
      {
        suite: 'otel',
        metric: `max sustained e2e rate with telemetry on (metrics scraped 1/s + traces at the default 10/s sampling), MQTT 5 bridge, ${DEVICES} devices`,
        value: Math.round(on.best),
        unit: 'msg/s',
        baseline: { name: 'the same scenario with telemetry off', value: Math.round(off.best) },
        ratio: Math.round(ratio * 1000) / 1000,
        target: '≥ 0.9',
        met: ratio >= 0.9,
        notes: `spans exported to ${exportTo}. Interleaved bisection, ${STEPS} steps each. off: ${off.log.join(' | ')}. on: ${on.log.join(' | ')}`,
      },
    ]
  },
}

export default suite
