import { fmtCount, fmtLatency } from '../../cli/format.ts'
import type { RunSummary } from '../../engine/summary.ts'
import { esc, htmlTable } from './escape.ts'

const ms = (v: number | null) =>
  v === null ? '-' : v >= 10_000 ? `${(v / 1000).toFixed(1)} s` : `${Math.round(v)} ms`

/** The run's faults and outages with their recovery figures; empty when there were none. */
export function faultTable(s: RunSummary | null): string {
  const f = s?.faults
  if (!f) return ''
  const all = [...f.faults, ...f.outages].sort((a, b) => a.atS - b.atS)
  if (all.length === 0) return ''
  const rows = all.map((x) => [
    esc(x.kind === 'outage' ? 'outage (not caused by iotload)' : x.name),
    esc(`${x.atS}s`),
    esc(
      x.exec
        ? x.exec.timedOut
          ? `timed out, killed after ${ms(x.exec.durationMs)}`
          : `exit ${x.exec.exitCode ?? x.exec.signal} after ${ms(x.exec.durationMs)}`
        : '-',
    ),
    esc(ms(x.firstReconnectMs)),
    esc(x.recoveryMs === null ? 'not recovered' : ms(x.recoveryMs)),
    esc(`${x.window.fromS}–${x.window.toS}s`),
    esc(fmtCount(x.sent)),
    esc(x.lost === null ? '-' : fmtCount(x.lost)),
    esc(fmtCount(x.duplicates)),
    esc(x.p99BeforeUs === null ? '-' : fmtLatency(x.p99BeforeUs)),
    esc(x.p99DuringUs === null ? '-' : fmtLatency(x.p99DuringUs)),
    esc(
      Object.entries(x.publishErrors)
        .map(([c, n]) => `${n} ${c}`)
        .join('; ') || '-',
    ),
  ])
  return `<h2>Faults and outages</h2><p class="note">marked in red on every chart over time; recovered: until arrivals were back to ≥ 95 % of target (1 s resolution); lost and dup: sends intended inside the window</p>${htmlTable(
    [
      'fault',
      'at',
      'command',
      'first reconnect',
      'recovered',
      'window',
      'sent',
      'lost',
      'dup',
      'p99 before',
      'p99 during',
      'publish errors',
    ],
    rows,
  )}`
}
