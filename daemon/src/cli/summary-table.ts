import type { DevicesSummary } from '../engine/device-figures.ts'
import type { RunSummary } from '../engine/summary.ts'
import { fmtCount, fmtLatency, table } from './format.ts'
import { faultLines } from './fault-lines.ts'
import { renderGroups, renderSubscribers } from './group-lines.ts'
import { connectionLines, loadText } from './shape-lines.ts'

/** The human summary printed at the end of `iotload run`. */
export function renderSummary(s: RunSummary): string {
  const out: string[] = []
  const t = s.target
  out.push(
    `run ${s.run.id} "${s.run.name}": ${s.run.status} — ${t.plugin}, ${loadText(t)} for ${t.durationS}s (+${t.warmupS}s warm-up), qos ${t.qos}, ${t.envelope} envelope`,
  )
  if (s.error) out.push(`error: ${s.error}`)
  const measured = s.run.measured !== false
  if (!measured)
    out.push(
      s.run.status === 'failed'
        ? 'nothing was measured: the run failed before or while it measured, so no figures are shown'
        : 'nothing was measured: the run stopped during warm-up, so no figures are shown',
    )
  else if (s.run.measuredSeconds < t.durationS)
    out.push(
      `measured ${s.run.measuredSeconds.toFixed(1)} s of ${t.durationS} s (${s.run.status}); rates are over the measured time`,
    )
  const e2e = s.streams.e2e
  if (e2e && measured) {
    out.push('')
    // `queued` only where the plugin could ask the broker: an absent figure is not a zero.
    const queued = e2e.queued !== undefined
    out.push(
      table(
        [
          'stream',
          'sent',
          'received',
          'lost',
          'undelivered',
          ...(queued ? ['queued'] : []),
          'dup',
          'reorder',
          'invalid',
          'msg/s',
        ],
        [
          [
            'e2e',
            fmtCount(e2e.sent),
            fmtCount(e2e.received),
            fmtCount(e2e.lost),
            fmtCount(e2e.undelivered ?? 0),
            ...(queued ? [fmtCount(e2e.queued)] : []),
            fmtCount(e2e.duplicates),
            fmtCount(e2e.reordered),
            fmtCount(e2e.invalid),
            (e2e.rate ?? 0).toFixed(1),
          ],
        ],
      ),
    )
  }
  if (e2e && measured && ((e2e.undelivered ?? 0) > 0 || (e2e.queued ?? 0) > 0))
    out.push(
      `  undelivered: sent after their device's last arrival and not received by the end of the drain (lost, or still queued)${e2e.queued !== undefined ? `; the broker still held ${fmtCount(e2e.queued)} for the consumer` : ''}`,
    )
  const rows: string[][] = []
  for (const [name, st] of measured ? Object.entries(s.streams) : []) {
    const r = st.latency.raw
    rows.push([
      `${name} raw`,
      fmtCount(r.count),
      fmtLatency(r.p50),
      fmtLatency(r.p90),
      fmtLatency(r.p99),
      fmtLatency(r.p999),
      fmtLatency(r.max),
    ])
    const co = st.latency.co
    if (co)
      rows.push([
        `${name} co`,
        fmtCount(co.count),
        fmtLatency(co.p50),
        fmtLatency(co.p90),
        fmtLatency(co.p99),
        fmtLatency(co.p999),
        fmtLatency(co.max),
      ])
  }
  if (rows.length > 0) {
    out.push('')
    out.push(table(['latency', 'count', 'p50', 'p90', 'p99', 'p99.9', 'max'], rows))
    out.push(
      '  raw: receive − actual send time; co: receive − intended send time (coordinated-omission corrected)',
    )
  }
  const ts = s.timestamps
  if (ts.source === 'external')
    out.push(
      `  send times: external iPaaS timestamps at ${fmtLatency(ts.resolutionUs)} resolution; latencies read up to ${fmtLatency(ts.resolutionUs)} high${ts.ambiguousWarmup ? `, ${ts.ambiguousWarmup} messages at the warm-up boundary placed by the send count of their timestamp step` : ''}`,
    )
  else if (ts.via)
    out.push(
      `  send times: iotload's own (µs), found through ${ts.via === 'correlation' ? `correlation ids${ts.expiredIds ? `, ${fmtCount(ts.expiredIds)} expired (no latency)` : ''}` : 'the envelope the flow passed through'}`,
    )
  if (measured && s.groups) out.push(...renderGroups(s.groups))
  if (measured && s.subscribers) out.push(...renderSubscribers(s.subscribers, s.streams.e2e?.sent))
  if (measured && s.devices) out.push(...renderDevices(s.devices))
  const crossing = s.legs.filter((l) => l.crossHost)
  if (crossing.length > 0)
    out.push(
      `  cross-host legs (two clocks, offset included): ${crossing.map((l) => `${l.stream} (${l.fromHost} → ${l.toHost})`).join(', ')}`,
    )
  const unknownHosts = s.legs.filter((l) => l.crossHost === undefined)
  if (unknownHosts.length > 0)
    out.push(`  legs with a hop of unknown host: ${unknownHosts.map((l) => l.stream).join(', ')}`)
  const inv = Object.entries(s.invalid)
  if (inv.length > 0) out.push(`invalid by reason: ${inv.map(([k, v]) => `${k} ${v}`).join(', ')}`)
  if (s.clockSkew > 0)
    out.push(
      `clock skew: ${s.clockSkew} messages arrived before they were sent (cross-host clocks); not counted as latency`,
    )
  for (const h of s.hints ?? []) out.push(`hint: ${h}`)
  const g = s.generator
  if (g) {
    out.push('')
    out.push(
      `generator: ${g.limited ? 'LIMITED' : 'ok'} — send rate ${g.achievedSendRate.toFixed(1)}/s of ${g.targetRate.toFixed(1)}/s target, lag p50 ${fmtLatency(g.lagUs.p50)} p99 ${fmtLatency(g.lagUs.p99)} max ${fmtLatency(g.lagUs.max)}, event-loop delay p99 ${fmtLatency(g.eventLoopDelayUs.p99)}, in-flight peak ${fmtCount(g.inFlightPeak)}`,
    )
    for (const r of g.reasons) out.push(`  generator-limited: ${r}`)
  }
  const c = s.connections
  if (c) {
    out.push(...connectionLines(c))
  }
  if (s.faults) out.push(...faultLines(s.faults))
  if (s.bridge) {
    out.push(
      `bridge: received ${fmtCount(s.bridge.received)}, forwarded ${fmtCount(s.bridge.forwarded)}, dropped by transform ${fmtCount(s.bridge.dropped)}, transform errors ${s.bridge.transformErrors}, overflow drops ${fmtCount(s.bridge.overflowDropped)}, publish errors ${s.bridge.publishErrors}, in-flight peak ${s.bridge.inFlightPeak}, queued peak ${s.bridge.queuedPeak}`,
    )
  }
  if (s.slo.length > 0) {
    out.push('')
    out.push(
      table(
        ['slo', 'threshold', 'actual', 'result'],
        s.slo.map((r) => [
          r.key,
          r.threshold,
          r.actual,
          r.result === 'not evaluated' ? 'not evaluated' : r.pass ? 'PASS' : 'FAIL',
        ]),
      ),
    )
  }
  return out.join('\n')
}

/** The worst devices, one line per ranking that has any. */
function renderDevices(d: DevicesSummary): string[] {
  const out: string[] = []
  const list = (items: string[]) => items.join(', ')
  if (d.worst.loss.length > 0)
    out.push(
      `  most missing (of ${fmtCount(d.tracked)} devices): ${list(d.worst.loss.map((x) => `#${x.device} ${fmtCount(x.lost + x.undelivered)}/${fmtCount(x.sent)}`))}`,
    )
  if (d.worst.duplicates.length > 0)
    out.push(
      `  most duplicates: ${list(d.worst.duplicates.map((x) => `#${x.device} ${fmtCount(x.duplicates)}`))}`,
    )
  if (d.tracked > 1 && d.worst.p99.length > 0)
    out.push(
      `  highest p99: ${list(d.worst.p99.slice(0, 5).map((x) => `#${x.device} ${fmtLatency(x.p99)}`))}`,
    )
  return out
}
