import { stringify } from 'yaml'
import { fmtCount, fmtLatency } from '../../cli/format.ts'
import type { LatencyStats } from '../../engine/histogram.ts'
import type { RunSummary } from '../../engine/summary.ts'
import type { ReportRun } from '../report-model.ts'
import { esc, htmlTable } from './escape.ts'

const lat = (us: number | undefined) => esc(fmtLatency(us))
const num = (n: number | undefined | null) => esc(n === null ? '-' : fmtCount(n))
const when = (ms: number | null) => (ms ? esc(new Date(ms).toISOString()) : '-')

/** Where and with what the run executed. */
export function environmentTable(run: ReportRun): string {
  const e = run.environment
  const rows: Array<[string, string]> = [
    ['run', `${esc(run.id)} (${esc(run.source)})`],
    ['status', esc(run.status)],
    ['started', when(run.startedAt)],
    ['iotload', esc(e?.iotloadVersion ?? 'not recorded')],
    ['host', esc(e?.host ?? 'not recorded')],
    ['runtime', esc(e ? `${e.runtime} on ${e.os}, ${e.cpus} CPUs` : 'not recorded')],
    [
      'plugins',
      esc(
        e ? e.plugins.map((p) => `${p.name} (${p.package}@${p.version ?? '?'})`).join(', ') : 'not recorded',
      ),
    ],
  ]
  if (run.error) rows.push(['error', `<span class="bad">${esc(run.error)}</span>`])
  return htmlTable(['', ''], rows, 'kv')
}

/** The scenario as run, secrets redacted, as YAML. */
export function scenarioBlock(run: ReportRun): string {
  if (run.scenario === null || run.scenario === undefined) return '<p class="note">scenario not recorded</p>'
  return `<details><summary>scenario (as run, secrets redacted)</summary><pre>${esc(stringify(run.scenario))}</pre></details>`
}

function latencyRows(name: string, l: { raw: LatencyStats; co?: LatencyStats }): string[][] {
  const row = (kind: string, s: LatencyStats) => [
    esc(`${name} ${kind}`),
    num(s.count),
    lat(s.p50),
    lat(s.p90),
    lat(s.p99),
    lat(s.p999),
    lat(s.max),
  ]
  return [row('raw', l.raw), ...(l.co ? [row('co', l.co)] : [])]
}

/** Counts, latency per stream, generator, connections, bridge: what `iotload run` prints. */
export function summaryTables(s: RunSummary | null): string {
  if (!s)
    return '<p class="note">no summary: the run has not ended, or its process stopped before it could write one</p>'
  const out: string[] = []
  const t = s.target
  out.push(
    `<p>${esc(t.plugin)}: ${num(t.devices)} devices, ${esc(Math.round(t.totalRate))}/s target for ${esc(t.durationS)} s (+${esc(t.warmupS)} s warm-up), qos ${esc(t.qos)}, ${esc(t.envelope)} envelope; measured ${esc(s.run.measuredSeconds)} s</p>`,
  )
  if (s.run.measured === false) {
    out.push('<p class="bad">nothing was measured: no figures are shown and the SLOs were not evaluated</p>')
    return out.join('')
  }
  const e2e = s.streams.e2e
  if (e2e) {
    const queued = e2e.queued !== undefined
    out.push(
      htmlTable(
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
          'sent/s',
        ],
        [
          [
            'e2e',
            num(e2e.sent),
            num(e2e.received),
            num(e2e.lost),
            num(e2e.undelivered ?? 0),
            ...(queued ? [num(e2e.queued)] : []),
            num(e2e.duplicates),
            num(e2e.reordered),
            num(e2e.invalid),
            esc((e2e.rate ?? 0).toFixed(1)),
            esc((e2e.sendRate ?? 0).toFixed(1)),
          ],
        ],
      ),
    )
  }
  const rows = Object.entries(s.streams).flatMap(([name, st]) => latencyRows(name, st.latency))
  out.push(htmlTable(['latency', 'count', 'p50', 'p90', 'p99', 'p99.9', 'max'], rows))
  out.push(
    '<p class="note">raw: receive − actual send time; co: receive − intended send time (coordinated-omission corrected)</p>',
  )
  const g = s.generator
  if (g)
    out.push(
      `<p>generator: <b class="${g.limited ? 'bad' : 'good'}">${g.limited ? 'LIMITED' : 'ok'}</b> — send rate ${esc(g.achievedSendRate.toFixed(1))}/s of ${esc(g.targetRate.toFixed(1))}/s, lag p50 ${lat(g.lagUs.p50)} p99 ${lat(g.lagUs.p99)} max ${lat(g.lagUs.max)}, event-loop delay p99 ${lat(g.eventLoopDelayUs.p99)}, in-flight peak ${num(g.inFlightPeak)}${g.reasons.map((r) => `<br>generator-limited: ${esc(r)}`).join('')}</p>`,
    )
  const c = s.connections
  if (c)
    out.push(
      `<p>connections: ${num(c.connections - c.failed)}/${num(c.connections)} opened in ${esc(c.connectMs)} ms, disconnects ${num(c.disconnects)}, reconnects ${num(c.reconnects)}</p>`,
    )
  const b = s.bridge
  if (b)
    out.push(
      `<p>bridge: received ${num(b.received)}, forwarded ${num(b.forwarded)}, dropped by transform ${num(b.dropped)}, transform errors ${num(b.transformErrors)}, overflow drops ${num(b.overflowDropped)}, publish errors ${num(b.publishErrors)}</p>`,
    )
  const inv = Object.entries(s.invalid)
  if (inv.length > 0)
    out.push(`<p>invalid by reason: ${esc(inv.map(([k, v]) => `${k} ${v}`).join(', '))}</p>`)
  return out.join('')
}

/** SLO verdicts. */
export function sloTable(s: RunSummary | null): string {
  if (!s || s.slo.length === 0) return '<p class="note">no SLOs in the scenario</p>'
  return htmlTable(
    ['slo', 'threshold', 'actual', 'result'],
    s.slo.map((r) => [
      esc(r.key),
      esc(r.threshold),
      esc(r.actual),
      r.result === 'not evaluated'
        ? '<span class="note">not evaluated</span>'
        : `<b class="${r.pass ? 'good' : 'bad'}">${r.pass ? 'PASS' : 'FAIL'}</b>`,
    ]),
  )
}

/** The legs (every stream but e2e), each with its raw percentiles. */
export function legsTable(s: RunSummary | null): string {
  const legs = Object.entries(s?.streams ?? {}).filter(([name]) => name !== 'e2e')
  if (legs.length === 0 || s?.run.measured === false)
    return '<p class="note">no legs: the path has no bridge and no publish acks</p>'
  const hosts = new Map((s?.legs ?? []).map((l) => [l.stream, l]))
  return htmlTable(
    ['leg', 'from → to', 'count', 'p50', 'p99', 'p99.9', 'max'],
    legs.map(([name, st]) => {
      const h = hosts.get(name)
      return [
        esc(name),
        esc(h ? `${h.from} → ${h.to}${h.crossHost ? ' (two hosts)' : ''}` : ''),
        num(st.latency.raw.count),
        lat(st.latency.raw.p50),
        lat(st.latency.raw.p99),
        lat(st.latency.raw.p999),
        lat(st.latency.raw.max),
      ]
    }),
  )
}
