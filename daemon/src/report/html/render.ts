import { createHash } from 'node:crypto'
import { IOTLOAD_VERSION } from '../../engine/run-environment.ts'
import { type Comparison, compareRuns } from '../comparison.ts'
import type { ReportRun } from '../report-model.ts'
import { reportAssets, inlineScript } from './assets.ts'
import { clientRun } from './chart-data.ts'
import { comparisonTable } from './comparison-table.ts'
import { esc, scriptJson } from './escape.ts'
import { faultTable } from './fault-table.ts'
import { environmentTable, legsTable, scenarioBlock, sloTable, summaryTables } from './run-tables.ts'
import { REPORT_CSS } from './styles.ts'

/**
 * Nothing may load from anywhere (the report is one file, read from disk or a daemon alike), and
 * only the two scripts it was written with may run: their hashes, not 'unsafe-inline', so markup
 * that slipped into a name could not run a handler either.
 */
function contentSecurityPolicy(scripts: string[]): string {
  const hashes = scripts.map((js) => `'sha256-${createHash('sha256').update(js).digest('base64')}'`)
  return `default-src 'none'; script-src ${hashes.join(' ')}; style-src 'unsafe-inline'; img-src data:`
}

/**
 * The policy a served report also gets as an HTTP header: the meta tag's, plus what only a header
 * can say. `sandbox allow-scripts` gives the page an opaque origin, so even script that slipped in
 * could not call the daemon's API as same-origin (its requests carry `Origin: null`, refused).
 */
export function reportResponsePolicy(): string {
  const assets = reportAssets()
  return `${contentSecurityPolicy([inlineScript(assets.uplotJs), inlineScript(assets.clientJs)])}; sandbox allow-scripts; frame-ancestors 'none'; base-uri 'none'; form-action 'none'`
}

const chart = (kind: string, caption: string, run?: number) =>
  `<figure class="chart" id="chart-${kind}${run !== undefined ? `-${run}` : ''}" data-kind="${kind}"${run !== undefined ? ` data-run="${run}"` : ''}><figcaption>${esc(caption)}</figcaption><div class="plot"></div></figure>`

function runSections(run: ReportRun, i: number, withCharts: boolean): string {
  const s = run.summary
  const parts = [
    `<h2>Environment</h2>${environmentTable(run)}${scenarioBlock(run)}`,
    `<h2>Summary</h2>${summaryTables(s)}<h3>SLOs</h3>${sloTable(s)}${faultTable(s)}`,
  ]
  if (withCharts) {
    const warm = ' (warm-up shaded)'
    parts.push(
      `<h2>Latency over time</h2>${chart('latency-raw', `e2e latency per second, raw: p50, p90, p99, p99.9, max${warm}`, i)}${chart('latency-co', `e2e latency per second, coordinated-omission corrected${warm}`, i)}`,
      `<h2>Percentile spectrum</h2>${chart('spectrum', 'latency by percentile (log "nines" axis, as HdrHistogram plots it); solid raw, dashed co', i)}`,
      `<h2>Throughput</h2>${chart('throughput', `measured messages sent and received per second, and the target${warm}`, i)}`,
      `<h2>Loss, duplicates, reordering, invalid</h2>${chart('errors', `per second; gaps outstanding are sequence gaps not filled yet (lost, or still in flight)${warm}`, i)}`,
      `<h2>Legs</h2>${legsTable(s)}${chart('legs', `latency of each leg per second, p99 solid, p50 dashed${warm}`, i)}`,
      `<h2>Generator health</h2>${chart('generator', `send lag and event-loop delay per second (left), publishes in flight (right)${warm}`, i)}`,
      `<h2>Connections</h2>${chart('connections', `disconnects and reconnects per second${warm}`, i)}`,
    )
  } else parts.push(`<h3>Legs</h3>${legsTable(s)}`)
  return parts.join('\n')
}

function comparisonSections(comparison: Comparison): string {
  return [
    `<h2>Comparison</h2><p class="note">e2e figures from each run's summary; ×n is the ratio to the first run (the baseline)</p>${comparisonTable(comparison)}`,
    `<h2>Percentile spectrum</h2>${chart('cmp-spectrum-raw', 'e2e raw latency by percentile, one colour per run')}${chart('cmp-spectrum-co', 'e2e coordinated-omission-corrected latency by percentile')}`,
    `<h2>Over time</h2>${chart('cmp-p99-raw', 'e2e raw p99 per second (warm-up shaded)')}${chart('cmp-p99-co', 'e2e co p99 per second')}${chart('cmp-throughput', 'messages received per second')}${chart('cmp-lag', 'generator send lag p99 per second')}`,
  ].join('\n')
}

/** Options for `renderReport`. */
export interface RenderOptions {
  /** @default the run's name, or "comparison of N runs" */
  title?: string
  /** When the report was made. @default now */
  generatedAt?: Date
}

/**
 * One self-contained HTML file: uPlot, the styles, the script and the data inlined, a CSP that
 * forbids every request. One run: its tables and charts. Several: the comparison first (table
 * and overlaid charts, one colour per run), then each run's tables.
 */
export function renderReport(runs: readonly ReportRun[], options: RenderOptions = {}): string {
  if (runs.length === 0) throw new Error('a report needs at least one run')
  const compare = runs.length > 1
  const title = options.title ?? (compare ? `comparison of ${runs.length} runs` : runs[0]!.name)
  const assets = reportAssets()
  const comparison = compare ? compareRuns(runs) : undefined
  const body = compare
    ? [
        comparisonSections(comparison!),
        ...runs.map(
          (r, i) =>
            `<section class="run" id="run-${esc(r.id)}"><h2><span class="swatch" data-run="${i}"></span>${esc(r.name)}</h2>${runSections(r, i, false)}</section>`,
        ),
      ].join('\n')
    : runSections(runs[0]!, 0, true)
  const generated = (options.generatedAt ?? new Date()).toISOString()
  const data = { generatedAt: generated, comparison: comparison ?? null, runs: runs.map(clientRun) }
  const uplotJs = inlineScript(assets.uplotJs)
  const clientJs = inlineScript(assets.clientJs)
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy([uplotJs, clientJs])}">
<meta name="generator" content="iotload ${esc(IOTLOAD_VERSION)}">
<title>iotload: ${esc(title)}</title>
<style>${assets.uplotCss}</style>
<style>${REPORT_CSS}</style>
</head>
<body>
<header><h1>iotload ${compare ? 'comparison' : 'report'}: ${esc(title)}</h1><p class="note">generated ${esc(generated)} by iotload ${esc(IOTLOAD_VERSION)}; every figure comes from the stored per-second rows and histograms</p></header>
${body}
<script type="application/json" id="iotload-data">${scriptJson(data)}</script>
<script>${uplotJs}</script>
<script>${clientJs}</script>
</body>
</html>
`
}
