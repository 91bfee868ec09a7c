import type { SubscriberSecond, SubscriberSummary } from '../engine/fanout-breakdown.ts'
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

/** One line under a second's progress line: each fan-out subscriber's deliveries and p99. */
export function subscriberProgressLine(subs: SubscriberSecond[]): string {
  return `        subscribers  ${subs.map((s) => `#${s.subscriber} ${fmtCount(s.received)}/s p99 ${fmtLatency(s.received ? s.p99 : undefined)}`).join('  ')}`
}

/** The per-subscriber table of a fan-out's summary: each held to every measured send. */
export function renderSubscribers(subs: SubscriberSummary[], sent: number | undefined): string[] {
  const rows = subs.map((s) => [
    `#${s.subscriber}`,
    fmtCount(s.received),
    fmtCount(s.lost),
    fmtCount(s.undelivered),
    fmtCount(s.duplicates),
    fmtCount(s.reordered),
    fmtLatency(s.latency.raw.count ? s.latency.raw.p50 : undefined),
    fmtLatency(s.latency.raw.count ? s.latency.raw.p99 : undefined),
  ])
  return [
    '',
    table(['subscriber', 'received', 'lost', 'undelivered', 'dup', 'reorder', 'p50', 'p99'], rows),
    `  fan-out: each subscriber owes all ${fmtCount(sent)} measured sends; the e2e row counts deliveries over all subscribers`,
  ]
}
