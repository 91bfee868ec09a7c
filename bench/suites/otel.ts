import { randomUUID } from 'node:crypto'
import { createTelemetry, type Telemetry } from '@iotload/otel'
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base'
import { isPortOpen } from '@iotload/sdk/testing'
import { startRun } from '../../daemon/src/engine/run.ts'
import { createLogger } from '../../daemon/src/log/logger.ts'
import { resolveScenario } from '../../daemon/src/scenario/load-scenario.ts'
import { telemetryForRun } from '../../daemon/src/telemetry/run-telemetry.ts'
import { searchCapacity } from '../../daemon/src/capacity/search.ts'
import { judgeProbe } from '../../daemon/src/capacity/verdict.ts'
import type { BenchFigure, BenchSuite } from '../lib/types.ts'

const URL = 'mqtt://127.0.0.1:1883'
const DEVICES = 10
const MEASURE_S = 5
const WARMUP_S = 1
/** Probes per search (each search: doubling from FLOOR, then bisection). */
const MAX_PROBES = 6
const FLOOR = 3000
const CEILING = 24_000
/** Fixed rate of the CPU-cost pairs. */
const CPU_RATE = 6000
const CPU_PAIRS = 3
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

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
    const cpu0 = process.cpuUsage()
    const summary = await startRun(resolved, {
      id,
      logger: createLogger({ level: 'error' }),
      ...(telemetry ? { telemetry: telemetryForRun(telemetry, resolved, id) } : {}),
    }).result
    const cpu = process.cpuUsage(cpu0)
    const messages = summary.streams.e2e?.sent ?? 0
    const verdict = judgeProbe(summary, totalRate)
    return {
      ...verdict,
      detail: `${verdict.ok ? 'ok' : `FAIL(${verdict.limit})`} ${Math.round(totalRate)}/s → sent ${Math.round(summary.generator?.achievedSendRate ?? 0)}/s, recv ${Math.round(summary.streams.e2e?.rate ?? 0)}/s`,
      cpuUsPerMsg: messages > 0 ? (cpu.user + cpu.system) / messages : 0,
    }
  } finally {
    if (scrape) clearInterval(scrape)
  }
}

/**
 * CPU the four per-message hooks cost (send, settle, bridge forward, receive with one hop), at the
 * default sampling over a simulated 10 000 msg/s, spans into memory. Deterministic where the
 * end-to-end trials are noisy.
 */
function hookNsPerMessage(): number {
  const t = createTelemetry({
    diagnostics: () => {},
    env: {},
    tracing: { exporter: new InMemorySpanExporter() },
  })
  const h = t.forRun({
    run: 'hooks',
    system: 'mqtt',
    producerDestination: 'd/{device}',
    consumerDestination: 'a/+',
    devices: 10,
  })
  const base = Date.now() * 1000
  const N = 500_000
  let best = Number.POSITIVE_INFINITY
  for (let round = 0; round < 4; round++) {
    const t0 = process.cpuUsage()
    for (let i = 0; i < N; i++) {
      const seq = round * N + i
      const tUs = base + seq * 100
      const dev = seq % 10
      const sent = h.onSend?.({ dev, seq, tUs, tiUs: tUs, topic: 'd/1' })
      h.onPublishSettled?.({ dev, seq, tUs, ackUs: tUs + 300, ok: true })
      const out = h.onBridgeForward?.({
        inTopic: 'd/1',
        outTopic: 'a/1',
        headers: sent,
        hopInUs: tUs + 500,
        hopOutUs: tUs + 520,
        dev,
        seq,
      })
      h.onReceive?.({
        meta: { dev, seq, t: tUs, ti: tUs, hops: [{ in: tUs + 500, out: tUs + 520 }] },
        recvUs: tUs + 900,
        topic: 'a/1',
        headers: out,
      })
    }
    const c = process.cpuUsage(t0)
    best = Math.min(best, ((c.user + c.system) * 1000) / N)
  }
  void t.shutdown()
  return best
}

/**
 * Telemetry's cost, two ways, both measured in this run with off/on trials interleaved so that
 * load drifts on the shared machine hit both alike:
 * - CPU per message at a fixed rate (producer, bridge and consumer all run in this process, so the
 *   rate a saturated process sustains is inversely proportional to it): off/on is the capacity ratio;
 * - the max sustained e2e rate, on/off: two find-max searches (the same search and verdict as
 *   `iotload find-max`), their probes taking turns.
 */
const suite: BenchSuite = {
  name: 'otel',
  requires: [{ name: 'Mosquitto', host: '127.0.0.1', port: 1883 }],
  async run(): Promise<BenchFigure[]> {
    const { telemetry, exportTo } = await telemetryOn()
    const cpuOff: number[] = []
    const cpuOn: number[] = []
    const logs = { off: [] as string[], on: [] as string[] }
    let off = 0
    let on = 0
    try {
      for (let i = 0; i < CPU_PAIRS; i++) {
        cpuOff.push((await trial(CPU_RATE, undefined)).cpuUsPerMsg)
        cpuOn.push((await trial(CPU_RATE, telemetry)).cpuUsPerMsg)
      }
      // One probe at a time, off and on taking turns, so load drifts on the shared machine hit both.
      let turn: Promise<unknown> = Promise.resolve()
      const search = (t: Telemetry | undefined, log: string[]) =>
        searchCapacity(
          {
            floor: FLOOR,
            ceiling: CEILING,
            precision: 0.05,
            maxProbes: MAX_PROBES,
            maxTimeMs: 3_600_000,
            probeMs: 10_000,
          },
          (rate) => {
            const next = turn.then(() => trial(rate, t))
            turn = next.catch(() => {})
            return next.then((r) => {
              log.push(r.detail)
              return r
            })
          },
          { now: Date.now, stopped: () => false },
        )
      const [a, b] = await Promise.all([search(undefined, logs.off), search(telemetry, logs.on)])
      off = a.sustained ?? 0
      on = b.sustained ?? 0
    } finally {
      await telemetry.shutdown()
    }
    const what = `telemetry on (metrics scraped 1/s + traces at the default 10/s sampling, spans to ${exportTo})`
    const cOff = median(cpuOff)
    const cOn = median(cpuOn)
    const capacity = cOn > 0 ? cOff / cOn : 0
    const ratio = off > 0 ? on / off : 0
    const r3 = (x: number) => Math.round(x * 1000) / 1000
    const hookNs = hookNsPerMessage()
    const hookRatio = cOff / (cOff + hookNs / 1000)
    return [
      {
        suite: 'otel',
        metric:
          "telemetry hook CPU per message (send + settle + bridge + receive, default sampling) against the whole pipeline's CPU per message",
        value: Math.round(hookNs),
        unit: 'ns/msg',
        baseline: {
          name: `iotload pipeline CPU per message, telemetry off, ${CPU_RATE}/s (ns)`,
          value: Math.round(cOff * 1000),
        },
        ratio: r3(hookRatio),
        target: '≥ 0.9',
        met: hookRatio >= 0.9,
        notes:
          'ratio = off / (off + hook cost): the capacity left with telemetry on if the hooks are the only added work (metric scrapes and span export run once a second). Best of 4 rounds of 500 000 messages.',
      },
      {
        suite: 'otel',
        metric: `e2e capacity with ${what}: CPU per message at ${CPU_RATE}/s, MQTT 5 bridge, ${DEVICES} devices`,
        value: r3(cOn),
        unit: 'CPU µs/msg',
        baseline: { name: 'the same scenario with telemetry off', value: r3(cOff) },
        ratio: r3(capacity),
        target: '≥ 0.9',
        met: capacity >= 0.9,
        notes: `ratio = off/on CPU per message (lower is better, so inverted): the sustainable rate of a CPU-bound process scales with it. Medians of ${CPU_PAIRS} interleaved pairs; off ${cpuOff.map((x) => x.toFixed(2)).join(', ')}; on ${cpuOn.map((x) => x.toFixed(2)).join(', ')}`,
      },
      {
        suite: 'otel',
        metric: `max sustained e2e rate with ${what}, MQTT 5 bridge, ${DEVICES} devices`,
        value: Math.round(on),
        unit: 'msg/s',
        baseline: { name: 'the same scenario with telemetry off', value: Math.round(off) },
        ratio: r3(ratio),
        target: '≥ 0.9',
        met: ratio >= 0.9,
        notes: `Two find-max searches (doubling from ${FLOOR}/s, bisection to 5 %, at most ${MAX_PROBES} probes each, find-max's verdict), probes interleaved. Noisy on a shared machine. off: ${logs.off.join(' | ')}. on: ${logs.on.join(' | ')}`,
      },
    ]
  },
}

export default suite
