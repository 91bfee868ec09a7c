import type { Counters } from '../counters.ts'
import type { DeviceFigure } from '../device-figures.ts'
import type { GeneratorReport } from '../generator-health.ts'
import type { StreamSnapshot } from '../latency-stream.ts'
import { FAILED_SAMPLES } from '../device-connections.ts'
import type { FleetConnectStats } from '../producer-fleet.ts'
import type { StormStats } from '../reconnect-storm.ts'
import type { ExternalVia, LegHosts } from '../recorder.ts'
import type { SummaryRecorder } from '../summary.ts'
import type { ConsumerFinal, ProducerFinal } from './worker-protocol.ts'
import { cumulativeOf, type SecondMerger } from './second-merger.ts'

/** The run's figures as `buildSummary` reads them, from the merged seconds and the workers' finals. */
export class MergedRecorderView implements SummaryRecorder {
  readonly streams: ReadonlyMap<string, { cumulative(): StreamSnapshot }>
  readonly lastMeasuredSendUs: number
  readonly firstMeasuredRecvUs: number
  readonly lastMeasuredRecvUs: number
  readonly externalMode: boolean
  readonly externalVia: ExternalVia | undefined
  readonly timestampResolutionUs: number | undefined
  readonly externalAmbiguous: number
  readonly correlationExpired: number
  /** Subscribers that each receive every message (`consumer.mode: fanout`); 1 otherwise. */
  readonly fanout: number

  constructor(
    readonly total: Counters,
    merger: SecondMerger,
    producers: ProducerFinal[],
    private readonly consumer: ConsumerFinal | undefined,
    fanout = 1,
  ) {
    this.fanout = fanout
    this.streams = new Map(
      [...merger.streams].map(([name, m]) => [name, { cumulative: () => cumulativeOf(m) }]),
    )
    this.lastMeasuredSendUs = Math.max(0, ...producers.map((p) => p.lastMeasuredSendUs))
    this.firstMeasuredRecvUs = consumer?.firstMeasuredRecvUs ?? 0
    this.lastMeasuredRecvUs = consumer?.lastMeasuredRecvUs ?? 0
    this.externalMode = consumer?.externalMode ?? false
    this.externalVia = consumer?.externalVia
    this.timestampResolutionUs = consumer?.timestampResolutionUs
    this.externalAmbiguous = consumer?.externalAmbiguous ?? 0
    this.correlationExpired = consumer?.correlationExpired ?? 0
  }

  legs(): LegHosts[] {
    return this.consumer?.legs ?? []
  }

  deviceFigures(): DeviceFigure[] {
    return this.consumer?.devices ?? []
  }

  hints(): string[] {
    return this.consumer?.hints ?? []
  }
}

const worst = (
  a: { p50: number; p99: number; max: number },
  b: { p50: number; p99: number; max: number },
) => ({
  p50: Math.max(a.p50, b.p50),
  p99: Math.max(a.p99, b.p99),
  max: Math.max(a.max, b.max),
})

type LatencyCount = { count: number; p50: number; p99: number; max: number }
/** Two workers' connect latencies as one: counts add, percentiles are the worse worker's. */
const bothLatencies = (a: LatencyCount, b: LatencyCount): LatencyCount => ({
  count: a.count + b.count,
  ...worst(a, b),
})

/**
 * The fleet's generator verdict from its workers': limited if any worker was (each names itself),
 * rates summed, and lag and delay figures the worst worker's (percentiles of threads do not add).
 */
export function mergeWorkerGenerators(
  finals: Array<{ label: string; g: GeneratorReport | null }>,
): GeneratorReport | null {
  let merged: GeneratorReport | null = null
  for (const { label, g } of finals) {
    if (!g) continue
    const reasons = g.reasons.map((r) => `${label}: ${r}`)
    if (!merged) {
      merged = { ...g, reasons }
      continue
    }
    merged = {
      limited: merged.limited || g.limited,
      reasons: [...merged.reasons, ...reasons],
      lagUs: worst(merged.lagUs, g.lagUs),
      finalLagP99Us: Math.max(merged.finalLagP99Us, g.finalLagP99Us),
      ...(merged.finalLagP50Us !== undefined || g.finalLagP50Us !== undefined
        ? { finalLagP50Us: Math.max(merged.finalLagP50Us ?? 0, g.finalLagP50Us ?? 0) }
        : {}),
      eventLoopDelayUs: worst(merged.eventLoopDelayUs, g.eventLoopDelayUs),
      inFlightPeak: merged.inFlightPeak + g.inFlightPeak,
      targetRate: merged.targetRate + g.targetRate,
      achievedSendRate: Math.round((merged.achievedSendRate + g.achievedSendRate) * 10) / 10,
    }
  }
  return merged
}

/** The fleet's connections over its workers, which connect in parallel: the slowest one's time. */
export function mergeWorkerConnections(all: Array<FleetConnectStats | null>): FleetConnectStats | null {
  let merged: FleetConnectStats | null = null
  for (const c of all) {
    if (!c) continue
    merged = merged ? sumStats(merged, c) : { ...c }
  }
  return merged
}

function sumStats(a: FleetConnectStats, b: FleetConnectStats): FleetConnectStats {
  const out: FleetConnectStats = {
    ...a,
    devices: a.devices + b.devices,
    connections: a.connections + b.connections,
    failed: a.failed + b.failed,
    connectMs: Math.max(a.connectMs, b.connectMs),
  }
  if (a.connectRate !== undefined || b.connectRate !== undefined)
    out.connectRate = (a.connectRate ?? 0) + (b.connectRate ?? 0)
  if (a.connectLatencyUs && b.connectLatencyUs)
    out.connectLatencyUs = bothLatencies(a.connectLatencyUs, b.connectLatencyUs)
  if (a.failuresByCause || b.failuresByCause)
    out.failuresByCause = addCounts(a.failuresByCause, b.failuresByCause)
  if (a.tolerated !== undefined || b.tolerated !== undefined)
    out.tolerated = (a.tolerated ?? 0) + (b.tolerated ?? 0)
  if (a.failedDevices || b.failedDevices)
    out.failedDevices = [...(a.failedDevices ?? []), ...(b.failedDevices ?? [])]
      .sort((x, y) => x.device - y.device)
      .slice(0, FAILED_SAMPLES)
  if (a.storm && b.storm) out.storm = sumStorms(a.storm, b.storm)
  else if (b.storm) out.storm = b.storm
  return out
}

function addCounts(a: Record<string, number> = {}, b: Record<string, number> = {}): Record<string, number> {
  const out = { ...a }
  for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) + v
  return out
}

/** Each worker's share of the storm, at the same planned moment, as one storm. */
function sumStorms(a: StormStats, b: StormStats): StormStats {
  return {
    atS: Math.min(a.atS, b.atS),
    dropped: a.dropped + b.dropped,
    reconnected: a.reconnected + b.reconnected,
    failed: a.failed + b.failed,
    reconnectMs: Math.max(a.reconnectMs, b.reconnectMs),
    connectLatencyUs: bothLatencies(a.connectLatencyUs, b.connectLatencyUs),
    failuresByCause: addCounts(a.failuresByCause, b.failuresByCause),
  }
}
