import type { GroupSecond, GroupSummary } from '../engine/group-breakdown.ts'
import { fmtCount, fmtLatency, table } from './format.ts'

/** One indented line per device group under a second's progress line. */
export function groupProgressLines(groups: GroupSecond[]): string[] {
  const width = Math.max(...groups.map((g) => g.group.length))
  return groups.map(
    (g) =>
      `        ${g.group.padEnd(width)}  sent/s ${fmtCount(g.sent).padStart(8)}  recv/s ${fmtCount(g.received).padStart(8)}  p50 ${fmtLatency(g.received ? g.p50 : undefined).padStart(9)}  p99 ${fmtLatency(g.received ? g.p99 : undefined).padStart(9)}`,
  )
}

/** The per-group table of the summary: counts, target rate and e2e latency (raw and corrected p99). */
export function renderGroups(groups: GroupSummary[]): string[] {
  const rows = groups.map((g) => [
    g.group,
    `${fmtCount(g.firstDevice)}-${fmtCount(g.firstDevice + g.devices - 1)}`,
    fmtCount(g.sent),
    fmtCount(g.received),
    fmtCount(g.lost),
    fmtCount(g.undelivered),
    fmtCount(g.duplicates),
    g.targetRate.toFixed(1),
    fmtLatency(g.latency.raw.count ? g.latency.raw.p50 : undefined),
    fmtLatency(g.latency.raw.count ? g.latency.raw.p99 : undefined),
    fmtLatency(g.latency.co?.count ? g.latency.co.p99 : undefined),
  ])
  return [
    '',
    table(
      [
        'group',
        'devices',
        'sent',
        'received',
        'lost',
        'undelivered',
        'dup',
        'target/s',
        'p50',
        'p99',
        'co p99',
      ],
      rows,
    ),
  ]
}
