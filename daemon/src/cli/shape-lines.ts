import type { RunSummary } from '../engine/summary.ts'
import { fmtCount, fmtLatency } from './format.ts'

/** The load of a run in words: `2,000 devices × 1.00/s = 2,000/s`, or its stages and their mean. */
export function loadText(t: RunSummary['target']): string {
  if (!t.stages)
    return `${fmtCount(t.devices)} devices × ${t.ratePerDevice.toPrecision(3)}/s = ${fmtCount(Math.round(t.totalRate))}/s`
  const stages = t.stages
    .map((s) => `${s.ramp === 'step' ? '→' : '↗'}${fmtCount(Math.round(s.target))}/s ${s.durationS}s`)
    .join(' ')
  return `${fmtCount(t.devices)} devices, stages ${stages} (mean ${fmtCount(Math.round(t.totalRate))}/s measured)`
}

/** The connection lines of the summary: opened, connect times, failures by cause, the reconnect storm. */
export function connectionLines(c: NonNullable<RunSummary['connections']>): string[] {
  const lat = c.connectLatencyUs
  const causes = (m: Record<string, number> | undefined) =>
    m && Object.keys(m).length > 0
      ? `, failed by cause: ${Object.entries(m)
          .map(([k, v]) => `${k} ${fmtCount(v)}`)
          .join(', ')}`
      : ''
  const out = [
    `connections: ${fmtCount(c.connections - c.failed)}/${fmtCount(c.connections)} opened in ${c.connectMs}ms${c.connectRate ? ` (ramp ${fmtCount(c.connectRate)}/s)` : ''}${lat ? `, connect p50 ${fmtLatency(lat.p50)} p99 ${fmtLatency(lat.p99)} max ${fmtLatency(lat.max)}` : ''}${causes(c.failuresByCause)}${c.tolerated ? ` (the run went on without those ${fmtCount(c.tolerated)} devices: maxConnectFailures)` : ''}, disconnects ${c.disconnects}, reconnects ${c.reconnects}`,
    ...(c.failedDevices ?? []).slice(0, 5).map((f) => `  failed: #${f.device} ${f.cause}: ${f.error}`),
  ]
  const st = c.storm
  if (st)
    out.push(
      `reconnect storm at ${st.atS}s: ${fmtCount(st.dropped)} dropped, ${fmtCount(st.reconnected)} back in ${st.reconnectMs}ms, connect p50 ${fmtLatency(st.connectLatencyUs.p50)} p99 ${fmtLatency(st.connectLatencyUs.p99)} max ${fmtLatency(st.connectLatencyUs.max)}, ${fmtCount(st.failed)} failed${causes(st.failuresByCause)}`,
    )
  return out
}
