import { writeFile } from 'node:fs/promises'
import { ConfigError } from '@iotload/sdk'
import { compareRuns } from '../report/comparison.ts'
import { renderReport } from '../report/html/render.ts'
import { loadReportRuns } from '../report/load-runs.ts'
import type { SqliteStore } from '../store/sqlite-store.ts'
import { EXIT } from './exit-codes.ts'
import { openExistingStore } from './open-store.ts'

/** Usage of `iotload report` / `iotload compare`. */
export const REPORT_USAGE = `  iotload report <run-id|result.json>... [--out report.html] [--title text] [--json] [--db path]
                                     one self-contained HTML file (charts inlined, no network);
                                     several runs: a comparison (alias: iotload compare A B …);
                                     --json: the comparison table as JSON instead`

/** Flags of `report`. */
export interface ReportFlags {
  db: string
  out?: string
  title?: string
  /** Write the comparison table (figures, ratios, rank) as JSON instead of HTML. */
  json?: boolean
}

/** The default file name: `report-<id>.html`, or `compare-<id>-<id>….html`. */
export function defaultReportName(ids: readonly string[]): string {
  if (ids.length === 1) return `report-${ids[0]}.html`
  return ids.length <= 3
    ? `compare-${ids.join('-')}.html`
    : `compare-${ids[0]}-and-${ids.length - 1}-more.html`
}

/** `iotload report A [B …]`: writes the HTML report (or comparison) and prints where. */
export async function reportCommand(refs: string[], flags: ReportFlags): Promise<number> {
  if (refs.length === 0) throw new ConfigError('report', 'name at least one run id or result file')
  let store: SqliteStore | undefined
  try {
    const runs = await loadReportRuns(refs, () => {
      store = openExistingStore(flags.db)
      return store
    })
    const html = flags.json
      ? `${JSON.stringify(compareRuns(runs), null, 2)}\n`
      : renderReport(runs, flags.title ? { title: flags.title } : {})
    if (flags.out === '-') {
      process.stdout.write(html)
      return EXIT.ok
    }
    const out =
      flags.out ?? defaultReportName(runs.map((r) => r.id)).replace(/\.html$/, flags.json ? '.json' : '.html')
    await writeFile(out, html)
    process.stdout.write(
      `${runs.length > 1 ? 'comparison' : 'report'}: ${out} (${Math.round(html.length / 1024)} KB)\n`,
    )
    return EXIT.ok
  } finally {
    ;(store as SqliteStore | undefined)?.close()
  }
}
