import type * as hdr from 'hdr-histogram-js'
import type { GeneratorReport } from '../engine/generator-health.ts'
import { mergeEncoded } from '../engine/histogram.ts'
import type { RunSummary } from '../engine/summary.ts'
import type { ProducerReport } from './producer-task.ts'

type Reports = ReadonlyMap<string, ProducerReport>

const maxOf = (
  a: { p50: number; p99: number; max: number },
  b: { p50: number; p99: number; max: number },
) => ({
  p50: Math.max(a.p50, b.p50),
  p99: Math.max(a.p99, b.p99),
  max: Math.max(a.max, b.max),
})

/**
 * The cluster's generator health: limited if any producer daemon was, rates summed, and every
 * lag and delay figure the worst producer's (percentiles of different daemons do not add up, and
 * the worst one is what decides whether the offered load was what the scenario asked for).
 */
export function mergeGenerators(reports: Reports): GeneratorReport | null {
  let merged: GeneratorReport | null = null
  for (const [member, r] of reports) {
    const g = r.generator
    if (!g) continue
    const reasons = g.reasons.map((x) => `${member}: ${x}`)
    merged = merged
      ? {
          limited: merged.limited || g.limited,
          reasons: [...merged.reasons, ...reasons],
          lagUs: maxOf(merged.lagUs, g.lagUs),
          finalLagP99Us: Math.max(merged.finalLagP99Us, g.finalLagP99Us),
          eventLoopDelayUs: maxOf(merged.eventLoopDelayUs, g.eventLoopDelayUs),
          inFlightPeak: Math.max(merged.inFlightPeak, g.inFlightPeak),
          targetRate: merged.targetRate + g.targetRate,
          achievedSendRate: Math.round((merged.achievedSendRate + g.achievedSendRate) * 10) / 10,
        }
      : { ...g, reasons }
  }
  return merged
}

/** Device connections over all producer daemons; they connect in parallel, so the time is the slowest. */
export function mergeConnections(reports: Reports): RunSummary['connections'] {
  let merged: RunSummary['connections'] = null
  for (const r of reports.values()) {
    const c = r.connections
    if (!c) continue
    merged = merged
      ? {
          devices: merged.devices + c.devices,
          connections: merged.connections + c.connections,
          failed: merged.failed + c.failed,
          connectMs: Math.max(merged.connectMs, c.connectMs),
          disconnects: merged.disconnects + c.disconnects,
          reconnects: merged.reconnects + c.reconnects,
        }
      : { ...c }
  }
  return merged
}

/** The exact cluster publish-ack histogram, or undefined when no producer's broker acked. */
export function mergePublishAck(reports: Reports): hdr.Histogram | undefined {
  const encoded = [...reports.values()].flatMap((r) => (r.publishAckHist ? [r.publishAckHist] : []))
  return encoded.length > 0 ? mergeEncoded(encoded) : undefined
}
