import type { RunSummary } from '../engine/summary.ts'

/**
 * Why a probe did not hold its rate. `generator`: iotload could not issue the load (the figure is
 * then a lower bound for the path); the others are the path's: messages lost, arrivals falling
 * behind (broker lag), an SLO on latency broken; `error`: the run itself failed.
 */
export type ProbeLimit = 'generator' | 'loss' | 'broker-lag' | 'latency' | 'error'

/** How strict "sustained" is. */
export interface VerdictOptions {
  /** Achieved send and receive rates must reach this share of the target. @default 0.97 */
  minRatio?: number
  /**
   * Send lag p50 over the last tenth of the schedule beyond which the generator fell behind for
   * good, µs. The median, not p99: a brief stall of a shared machine must not read as saturation. @default 50000
   */
  maxFinalLagUs?: number
}

/** The judgement of one probe. */
export interface ProbeVerdict {
  ok: boolean
  /** The deciding cause when it failed (generator first: see ProbeLimit). */
  limit: ProbeLimit | null
  /** Every cause found, in words. */
  reasons: string[]
}

/** Latency percentiles of a probe, µs. */
export interface PointLatency {
  p50: number
  p99: number
  p999: number
}

/** One probe as the search reports it: a point of the latency-vs-throughput curve. */
export interface CurvePoint {
  /** Target rate probed, msg/s (fleet-wide). */
  rate: number
  /** The probe's stored run. */
  runId: string
  ok: boolean
  limit: ProbeLimit | null
  reasons: string[]
  sendRate: number
  receiveRate: number
  lost: number
  undelivered: number
  e2e: { raw: PointLatency; co: PointLatency | null }
  /** The generator's own verdict over the whole probe (stricter than the final-phase check). */
  generator: {
    limited: boolean
    finalLagP50Us: number
    finalLagP99Us: number
    eventLoopDelayP99Us: number
    inFlightPeak: number
  } | null
  /** CPU cores this process used while the probe ran (1.0 = one core flat out). */
  cpu?: number
  /** Producer threads the probe ran (`run.workers` as resolved; 1: the main thread alone). */
  producerWorkers: number
}

/** Event-loop delay (p99) worth a note beside a latency failure, µs. */
const EVENT_LOOP_NOTE_US = 10_000

const pct = (x: number) => `${Math.round(x * 100)}%`
const perS = (x: number) => `${Math.round(x).toLocaleString('en-US')}/s`
const ms = (us: number) => `${(us / 1000).toFixed(1)}ms`

/**
 * Judges a probe run against its target rate. Sustained: the run completed, nothing was lost or
 * left undelivered, achieved send and receive rates ≥ `minRatio` of the target, the generator kept
 * its schedule at the end (final-phase send lag p50), and every SLO held.
 */
export function judgeProbe(summary: RunSummary, target: number, options: VerdictOptions = {}): ProbeVerdict {
  const minRatio = options.minRatio ?? 0.97
  const maxFinalLagUs = options.maxFinalLagUs ?? 50_000
  if (summary.run.status !== 'completed')
    return {
      ok: false,
      limit: 'error',
      reasons: [summary.error ?? `the probe run ended ${summary.run.status}`],
    }
  const e2e = summary.streams.e2e
  const g = summary.generator
  const sendRate = g?.achievedSendRate ?? e2e?.sendRate ?? 0
  const receiveRate = e2e?.rate ?? 0
  const found = new Map<ProbeLimit, string[]>()
  const add = (limit: ProbeLimit, reason: string) => found.set(limit, [...(found.get(limit) ?? []), reason])
  if (sendRate < target * minRatio)
    add('generator', `sent ${perS(sendRate)}, below ${pct(minRatio)} of the ${perS(target)} target`)
  const finalLag = g ? (g.finalLagP50Us ?? g.finalLagP99Us) : 0
  if (finalLag > maxFinalLagUs)
    add('generator', `send lag p50 still ${ms(finalLag)} at the end of the schedule (> ${ms(maxFinalLagUs)})`)
  if ((e2e?.lost ?? 0) > 0) add('loss', `${e2e!.lost!.toLocaleString('en-US')} messages lost`)
  if (receiveRate < target * minRatio)
    add('broker-lag', `received ${perS(receiveRate)}, below ${pct(minRatio)} of the ${perS(target)} target`)
  if ((e2e?.undelivered ?? 0) > 0)
    add(
      'broker-lag',
      `${e2e!.undelivered!.toLocaleString('en-US')} messages still undelivered after the drain`,
    )
  for (const r of summary.slo) {
    if (r.result !== 'fail') continue
    const limit: ProbeLimit = r.key === 'loss' ? 'loss' : r.key === 'generator' ? 'generator' : 'latency'
    add(limit, `SLO ${r.key} ${r.actual} (threshold ${r.threshold})`)
  }
  // The consumer shares the generator's event loop: a late loop stamps arrivals late.
  if (found.has('latency') && g && g.eventLoopDelayUs.p99 > EVENT_LOOP_NOTE_US)
    add(
      'latency',
      `event-loop delay p99 ${ms(g.eventLoopDelayUs.p99)} in iotload itself: arrivals may be stamped up to that late`,
    )
  const order: ProbeLimit[] = ['generator', 'loss', 'broker-lag', 'latency']
  const limit = order.find((l) => found.has(l)) ?? null
  return { ok: limit === null, limit, reasons: order.flatMap((l) => found.get(l) ?? []) }
}

/** The curve point of a judged probe. */
export function curvePoint(
  summary: RunSummary,
  rate: number,
  verdict: ProbeVerdict,
  cpu?: number,
): CurvePoint {
  const e2e = summary.streams.e2e
  const lat = (s: { p50: number; p99: number; p999: number } | undefined): PointLatency | null =>
    s ? { p50: s.p50, p99: s.p99, p999: s.p999 } : null
  const g = summary.generator
  return {
    rate,
    runId: summary.run.id,
    ok: verdict.ok,
    limit: verdict.limit,
    reasons: verdict.reasons,
    sendRate: g?.achievedSendRate ?? e2e?.sendRate ?? 0,
    receiveRate: e2e?.rate ?? 0,
    lost: e2e?.lost ?? 0,
    undelivered: e2e?.undelivered ?? 0,
    e2e: {
      raw: lat(e2e?.latency.raw) ?? { p50: 0, p99: 0, p999: 0 },
      co: lat(e2e?.latency.co),
    },
    generator: g
      ? {
          limited: g.limited,
          finalLagP50Us: g.finalLagP50Us ?? g.finalLagP99Us,
          finalLagP99Us: g.finalLagP99Us,
          eventLoopDelayP99Us: g.eventLoopDelayUs.p99,
          inFlightPeak: g.inFlightPeak,
        }
      : null,
    ...(cpu !== undefined ? { cpu: Math.round(cpu * 100) / 100 } : {}),
    producerWorkers: summary.workers?.producers ?? 1,
  }
}
