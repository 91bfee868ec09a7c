import { fmtCount, fmtLatency, table } from './format.ts'
import type { CapacityResult } from '../capacity/result.ts'
import type { CurvePoint } from '../capacity/verdict.ts'

const rate = (n: number) => fmtCount(Math.round(n))

/** One probe as a progress line: `probe 3: 8,000/s ok — sent 8,000/s, recv 8,000/s, p99 1.2ms`. */
export function probeLine(p: CurvePoint, index: number): string {
  const verdict = p.ok ? 'ok' : `FAIL ${p.limit}: ${p.reasons.join('; ')}`
  return `probe ${index + 1}: ${rate(p.rate)}/s ${verdict} — sent ${rate(p.sendRate)}/s, recv ${rate(p.receiveRate)}/s, p99 ${fmtLatency(p.e2e.raw.p99)}${p.cpu !== undefined ? `, cpu ${p.cpu.toFixed(2)} cores` : ''} (run ${p.runId})`
}

/** The result as the CLI prints it: the knee, who set it, and the latency-vs-throughput curve. */
export function renderCapacity(name: string, r: CapacityResult): string {
  const head = [
    `find-max "${name}": ${r.message}`,
    `precision ${Math.round(r.precision * 1000) / 10}%${r.gap !== null ? ` (gap ${Math.round(r.gap * 1000) / 10}%)` : ''}, ${r.probes} probes in ${r.elapsedS}s; each probe is a stored run`,
  ]
  if (r.lowerBound && r.limitedBy === 'generator')
    head.push(
      'lower bound: iotload could not issue more on this machine; the broker may hold more (more cores, or daemons in a cluster)',
    )
  const rows = r.curve.map((p) => [
    rate(p.rate),
    rate(p.sendRate),
    rate(p.receiveRate),
    fmtLatency(p.e2e.raw.p50),
    fmtLatency(p.e2e.raw.p99),
    fmtLatency(p.e2e.raw.p999),
    fmtLatency(p.e2e.co?.p99),
    p.cpu !== undefined ? p.cpu.toFixed(2) : '-',
    p.ok ? 'ok' : `FAIL ${p.limit}`,
    p.runId,
  ])
  const curve = table(
    ['target/s', 'sent/s', 'recv/s', 'p50', 'p99', 'p99.9', 'co p99', 'cpu', 'verdict', 'run'],
    rows,
  )
  return [...head, '', curve].join('\n')
}
