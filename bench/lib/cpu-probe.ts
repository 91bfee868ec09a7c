/**
 * `node --import tsx bench/lib/cpu-probe.ts <scenario.json>`: runs one iotload run in THIS process
 * (producer and consumer together, as `iotload run` does) and prints, as one JSON line, the process
 * CPU time spent per message between the end of warm-up and the end of the schedule. In a process
 * of its own so nothing of the bench runner is counted; `process.cpuUsage()` covers every thread,
 * worker threads included.
 */
import { readFile } from 'node:fs/promises'
import { createTelemetry } from '@iotload/otel'
import { newRunId, startRun } from '../../daemon/src/engine/run.ts'
import { createLogger } from '../../daemon/src/log/logger.ts'
import { resolveScenario } from '../../daemon/src/scenario/load-scenario.ts'

/** What the probe prints. */
export interface CpuProbeResult {
  /** Measured sends and first arrivals over the measured seconds. */
  sent: number
  received: number
  /** Process CPU (user + system) over those seconds, µs. */
  cpuUs: number
  wallS: number
  /** CPU ns per message sent and received (each message published and consumed here). */
  nsPerMessage: number
  status: string
  generatorLimited: boolean
  /** Send lag (actual − intended) p50 over the run, µs; what the schedule's resolution costs in accuracy. */
  lagP50Us?: number
}

async function main(): Promise<void> {
  const file = process.argv[2]
  if (!file) throw new Error('usage: cpu-probe <scenario.json> [--metrics]')
  const resolved = await resolveScenario(JSON.parse(await readFile(file, 'utf8')))
  const id = newRunId()
  // --metrics: the per-message Prometheus metrics on, as every daemon run has them.
  const telemetry =
    process.argv[3] === '--metrics'
      ? createTelemetry({ env: {}, diagnostics: () => {} }).forRun({
          run: id,
          system: resolved.broker.pluginName,
          producerDestination: resolved.scenario.producer.topic,
          devices: resolved.scenario.producer.devices,
        })
      : undefined
  const p = resolved.scenario.producer
  const warmupS = p.warmup / 1000
  const lastS = warmupS + p.duration / 1000 - 1
  let from: { cpu: NodeJS.CpuUsage; at: number; sent: number; received: number } | undefined
  let to: typeof from
  let sent = 0
  let received = 0
  const handle = startRun(resolved, {
    id,
    ...(telemetry ? { telemetry } : {}),
    logger: createLogger({ level: 'error' }),
    onSecond: (r) => {
      sent += r.counters.sent
      received += r.counters.received
      const mark = { cpu: process.cpuUsage(), at: performance.now(), sent, received }
      // Second warmupS-1 is the last warm-up second: its roll starts the measured window.
      if (r.second === warmupS - 1) from = mark
      if (r.second === lastS) to = mark
    },
  })
  const summary = await handle.result
  if (!from || !to) throw new Error(`the run ended before its measured seconds (${summary.run.status})`)
  const d = process.cpuUsage(from.cpu)
  const toCpu = process.cpuUsage(to.cpu)
  const cpuUs = d.user + d.system - (toCpu.user + toCpu.system)
  const s = to.sent - from.sent
  const r = to.received - from.received
  const out: CpuProbeResult = {
    sent: s,
    received: r,
    cpuUs,
    wallS: (to.at - from.at) / 1000,
    nsPerMessage: s > 0 ? Math.round((cpuUs * 1000) / s) : 0,
    status: summary.run.status,
    generatorLimited: summary.generatorLimited,
    lagP50Us: summary.generator?.lagUs.p50,
  }
  process.stdout.write(`${JSON.stringify(out)}\n`)
  process.exit(0)
}

await main()
