import type { LatencyStats } from '../engine/histogram.ts'
import type { RunSummary } from '../engine/summary.ts'

/** Latency figures with their unit in the key, beside the schema-1 names. */
export type LatencyWithUnits = LatencyStats & {
  minUs: number
  meanUs: number
  p50Us: number
  p90Us: number
  p99Us: number
  p999Us: number
  maxUs: number
}

function latency(l: LatencyStats): LatencyWithUnits {
  return {
    ...l,
    minUs: l.min,
    meanUs: l.mean,
    p50Us: l.p50,
    p90Us: l.p90,
    p99Us: l.p99,
    p999Us: l.p999,
    maxUs: l.max,
  }
}

/**
 * A copy of the summary in which every figure with a unit also appears under a key naming it:
 * latencies `…Us`, rates `…PerS`. The schema-1 keys stay as they were, so readers of earlier
 * `--json` files keep working.
 */
export function withUnits(summary: RunSummary): RunSummary {
  const s = structuredClone(summary) as RunSummary & Record<string, unknown>
  for (const stream of Object.values(s.streams)) {
    const st = stream as typeof stream & Record<string, unknown>
    st.latency = { raw: latency(st.latency.raw), ...(st.latency.co ? { co: latency(st.latency.co) } : {}) }
    if (st.rate !== undefined) st.ratePerS = st.rate
    if (st.sendRate !== undefined) st.sendRatePerS = st.sendRate
  }
  Object.assign(s.target, {
    ratePerDevicePerS: s.target.ratePerDevice,
    totalRatePerS: s.target.totalRate,
  })
  if (s.generator)
    Object.assign(s.generator, {
      targetRatePerS: s.generator.targetRate,
      achievedSendRatePerS: s.generator.achievedSendRate,
    })
  return s
}
