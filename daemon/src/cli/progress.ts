import type { SecondReport } from '../engine/recorder.ts'
import { fmtCount, fmtLatency } from './format.ts'
import { groupProgressLines, subscriberProgressLine } from './group-lines.ts'

/** Achieved against planned, e.g. `1,980 of 2,000`; the achieved count alone when no target is known. */
function againstTarget(achieved: number, target: number | undefined): string {
  const a = fmtCount(achieved).padStart(8)
  return target === undefined ? a : `${a} of ${fmtCount(Math.round(target)).padStart(8)}`
}

/** One progress line per second: sent/s against the target, received/s, p50, p99, gaps so far. */
export function progressLine(r: SecondReport): string {
  const e2e = r.streams.find((s) => s.stream === 'e2e')?.snapshot
  const c = r.counters
  const sent = c.sent + c.sentWarmup
  const received = c.received + c.receivedWarmup
  const parts = [
    `[${String(r.second).padStart(4)}s${r.warmup ? ' warmup' : ''}]`,
    `sent/s ${againstTarget(sent, r.targetRate)}`,
    `recv/s ${fmtCount(received).padStart(8)}`,
    `p50 ${fmtLatency(e2e?.raw.count ? e2e.raw.p50 : undefined).padStart(9)}`,
    `p99 ${fmtLatency(e2e?.raw.count ? e2e.raw.p99 : undefined).padStart(9)}`,
    // Without sequence numbers the gaps cannot move: the estimate says what is overdue instead.
    r.lostEstimate === undefined ? `lost ${fmtCount(r.gaps)}` : `lost ~${fmtCount(r.lostEstimate)} (est.)`,
  ]
  if (c.invalid) parts.push(`invalid ${fmtCount(c.invalid)}`)
  if (c.publishErrors) parts.push(`publish errors ${fmtCount(c.publishErrors)}`)
  if (c.disconnects || c.reconnects) parts.push(`disconnects ${c.disconnects} reconnects ${c.reconnects}`)
  const lines = [parts.join('  ')]
  if (r.groups) lines.push(...groupProgressLines(r.groups))
  if (r.subscribers) lines.push(subscriberProgressLine(r.subscribers))
  return lines.join('\n')
}
