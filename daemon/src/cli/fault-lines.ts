import type { FaultReport, FaultsSummary } from '../engine/fault-timeline.ts'
import { fmtCount, fmtLatency, table } from './format.ts'

const ms = (v: number | null) =>
  v === null ? '—' : v >= 10_000 ? `${(v / 1000).toFixed(1)} s` : `${Math.round(v)} ms`

function execText(f: FaultReport): string {
  const e = f.exec
  if (!e) return 'not caused by iotload'
  const how = e.timedOut
    ? 'TIMED OUT (process group killed)'
    : e.error
      ? `could not start: ${e.error}`
      : e.exitCode === 0
        ? 'exit 0'
        : `exit ${e.exitCode ?? e.signal}`
  return `${how} after ${ms(e.durationMs)}`
}

/** The fault and outage table of `iotload run`'s summary, with the publish errors by cause. */
export function faultLines(f: FaultsSummary): string[] {
  const all = [...f.faults, ...f.outages].sort((a, b) => a.atS - b.atS)
  const out: string[] = []
  if (all.length > 0) {
    out.push('')
    out.push(
      table(
        [
          'fault',
          'at',
          'first reconnect',
          'recovered (≥95%)',
          'window',
          'sent',
          'lost',
          'dup',
          'p99 before',
          'p99 during',
        ],
        all.map((x) => [
          `${x.kind === 'outage' ? 'outage' : x.name}`,
          `${x.atS}s`,
          ms(x.firstReconnectMs),
          x.recoveryMs === null ? 'not recovered' : ms(x.recoveryMs),
          `${x.window.fromS}–${x.window.toS}s`,
          fmtCount(x.sent),
          x.lost === null ? '—' : fmtCount(x.lost),
          fmtCount(x.duplicates),
          x.p99BeforeUs === null ? '—' : fmtLatency(x.p99BeforeUs),
          x.p99DuringUs === null ? '—' : fmtLatency(x.p99DuringUs),
        ]),
      ),
    )
    for (const x of all) {
      const errors = Object.entries(x.publishErrors)
      out.push(
        `  ${x.kind === 'outage' ? x.name : `fault "${x.name}"`}: ${execText(x)}${x.firstDisconnectMs !== null ? `; first disconnect after ${ms(x.firstDisconnectMs)}` : '; no connection dropped'}${errors.length > 0 ? `; publish errors ${errors.map(([c, n]) => `${fmtCount(n)} ${c}`).join(', ')}` : ''}`,
      )
    }
    out.push(
      '  recovered: until arrivals were back to ≥ 95 % of target (1 s resolution); lost/dup: sends intended inside the window',
    )
  }
  for (const h of f.hookFailures)
    out.push(
      `${h.kind} ${h.index} "${h.name}" exited ${h.exitCode ?? 'by a signal'} (output in the run's record)`,
    )
  return out
}
