import { fmtCount, fmtLatency } from '../../cli/format.ts'
import type { Comparison, ComparisonRow } from '../comparison.ts'
import { esc, htmlTable } from './escape.ts'

const ratio = (r: number | null | undefined) =>
  r === null || r === undefined ? '' : `<span class="ratio">×${r < 10 ? r.toFixed(2) : r.toFixed(1)}</span>`

function figure(value: string, r: number | null | undefined, first: boolean): string {
  return first ? value : `${value}<br>${ratio(r)}`
}

function statusCell(row: ComparisonRow): string {
  if (!row.measured)
    return `<b class="bad">${esc(row.status)}</b>${row.error ? `<br><span class="note">${esc(row.error)}</span>` : ''}`
  const verdict =
    row.sloPassed === null
      ? ''
      : row.sloPassed
        ? '<br><b class="good">SLO PASS</b>'
        : '<br><b class="bad">SLO FAIL</b>'
  const limited = row.generatorLimited ? '<br><b class="bad">LIMITED</b>' : ''
  return `${esc(row.status)}${verdict}${limited}`
}

/**
 * Side by side: e2e p50/p99/p99.9/max raw and co, received rate and loss, each with its ratio to
 * the first run (×1.00 is the same, ×2.00 twice the first's figure).
 */
export function comparisonTable(c: Comparison): string {
  const header = [
    'run',
    'plugin',
    'status',
    'raw p50',
    'raw p99',
    'raw p99.9',
    'raw max',
    'co p50',
    'co p99',
    'co p99.9',
    'co max',
    'msg/s',
    'loss',
    'p99 rank',
  ]
  const rows = c.runs.map((r, i) => {
    const first = i === 0
    const l = (v: number | undefined, key: string) =>
      v === undefined ? '-' : figure(esc(fmtLatency(v)), r.ratioToFirst[key], first)
    const missing = (r.lost ?? 0) + (r.undelivered ?? 0)
    const loss =
      r.lossRatio === null
        ? '-'
        : figure(
            `${esc(fmtCount(missing))}${missing > 0 ? ` (${esc((r.lossRatio * 100).toFixed(3))} %)` : ''}${r.queued ? `<br><span class="note">queued ${esc(fmtCount(r.queued))}</span>` : ''}`,
            r.ratioToFirst.lossRatio,
            first,
          )
    return [
      `<span class="swatch" data-run="${i}"></span>${esc(r.name)}${first ? ' <span class="note">(baseline)</span>' : ''}<br><span class="note">${esc(r.id)}</span>`,
      esc(r.plugin ?? '-'),
      statusCell(r),
      l(r.e2eRaw?.p50Us, 'e2eRawP50'),
      l(r.e2eRaw?.p99Us, 'e2eRawP99'),
      l(r.e2eRaw?.p999Us, 'e2eRawP999'),
      l(r.e2eRaw?.maxUs, 'e2eRawMax'),
      l(r.e2eCo?.p50Us, 'e2eCoP50'),
      l(r.e2eCo?.p99Us, 'e2eCoP99'),
      l(r.e2eCo?.p999Us, 'e2eCoP999'),
      l(r.e2eCo?.maxUs, 'e2eCoMax'),
      r.ratePerS === null ? '-' : figure(esc(r.ratePerS.toFixed(1)), r.ratioToFirst.ratePerS, first),
      loss,
      r.rankP99 === null ? '-' : `<b>${r.rankP99}</b>`,
    ]
  })
  return htmlTable(header, rows, 'compare')
}
