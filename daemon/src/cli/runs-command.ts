import { ConfigError } from '@iotload/sdk'
import type { RunSummary } from '../engine/summary.ts'
import { exportDocument } from '../report/export-document.ts'
import type { RunRecord } from '../store/result-store.ts'
import { EXIT } from './exit-codes.ts'
import { fmtCount, fmtLatency, table } from './format.ts'
import { openExistingStore } from './open-store.ts'
import { renderSummary } from './summary-table.ts'

/** Usage of `iotload runs` and `iotload show`. */
export const RUNS_USAGE = `  iotload runs [--limit 20] [--db path]   stored runs, newest first (reads the database; no daemon needed)
  iotload show <run-id> [--json] [--db path]
                                     a stored run's summary again (--json: the export document)`

const verdict = (s: RunSummary | null) =>
  !s ? '-' : s.sloPassed === null ? 'not evaluated' : s.slo.length === 0 ? '-' : s.sloPassed ? 'PASS' : 'FAIL'

/** One line of `iotload runs`. */
export function runLine(r: RunRecord): string[] {
  const s = r.summary as RunSummary | null
  const measured = s?.run.measured !== false
  const e2e = measured ? s?.streams.e2e : undefined
  const missing = e2e ? (e2e.lost ?? 0) + (e2e.undelivered ?? 0) : undefined
  const plugin = s?.target.plugin ?? (r.scenario as { broker?: { plugin?: string } } | null)?.broker?.plugin
  return [
    r.id,
    r.name.length > 32 ? `${r.name.slice(0, 31)}…` : r.name,
    r.startedAt ? new Date(r.startedAt).toISOString().replace('T', ' ').slice(0, 19) : '-',
    r.status,
    plugin ?? '-',
    e2e?.rate !== undefined ? e2e.rate.toFixed(1) : '-',
    e2e && e2e.latency.raw.count > 0 ? fmtLatency(e2e.latency.raw.p99) : '-',
    missing === undefined ? '-' : fmtCount(missing),
    verdict(s),
  ]
}

/** `iotload runs`: the stored runs, newest first. */
export function runsCommand(flags: { db: string; limit?: string }): number {
  const limit = flags.limit === undefined ? 20 : Number(flags.limit)
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000)
    throw new ConfigError('--limit', `expected a whole number 1-10000, got '${flags.limit}'`)
  const store = openExistingStore(flags.db)
  try {
    const runs = store.listRuns({ limit })
    if (runs.length === 0) {
      process.stdout.write(`no runs in ${flags.db}\n`)
      return EXIT.ok
    }
    const header = ['id', 'name', 'started (UTC)', 'status', 'plugin', 'msg/s', 'p99', 'loss', 'slo']
    process.stdout.write(`${table(header, runs.map(runLine))}\n`)
    return EXIT.ok
  } finally {
    store.close()
  }
}

/** `iotload show <id>`: the summary as `iotload run` printed it (or the export document). */
export function showCommand(args: string[], flags: { db: string; json?: boolean }): number {
  const [id, ...extra] = args
  if (!id || extra.length > 0) throw new ConfigError('show', 'name exactly one run id')
  const store = openExistingStore(flags.db)
  try {
    const record = store.getRun(id)
    if (!record) throw new ConfigError(id, `no run with id '${id}' (iotload runs lists them)`)
    const summary = record.summary as RunSummary | null
    if (flags.json) {
      const doc = summary ? exportDocument(store, id) : record
      process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`)
      return EXIT.ok
    }
    if (!summary) {
      process.stdout.write(
        `run ${id} "${record.name}": ${record.status}, no summary${record.error ? ` — ${record.error}` : ''}\n`,
      )
      return EXIT.ok
    }
    process.stdout.write(`${renderSummary(summary)}\n`)
    const e = summary.environment
    if (e)
      process.stdout.write(
        `environment: iotload ${e.iotloadVersion} on ${e.host}, ${e.runtime}, ${e.os}; ${e.plugins.map((p) => `${p.package}@${p.version ?? '?'}`).join(', ')}\n`,
      )
    return EXIT.ok
  } finally {
    store.close()
  }
}
