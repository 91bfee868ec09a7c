import { writeFile } from 'node:fs/promises'
import { ConfigError } from '@iotload/sdk'
import { exportDocument } from '../report/export-document.ts'
import { seriesCsv } from '../report/series-csv.ts'
import { percentileDistributionText, runHistogram, streamProblem } from '../service/percentiles.ts'
import { EXIT } from './exit-codes.ts'
import { openExistingStore } from './open-store.ts'

/** Usage of `iotload export`. */
export const EXPORT_USAGE = `  iotload export <run-id> [--format json|csv|hgrm] [--stream e2e] [--kind raw|co] [--out file] [--db path]
                                     json: summary + per-second series + histograms (schemaVersion 2);
                                     csv: the per-second series; hgrm: HdrHistogram percentile text`

/** Flags of `export`. */
export interface ExportFlags {
  db: string
  format?: string
  stream?: string
  kind?: string
  out?: string
}

const FORMATS = ['json', 'csv', 'hgrm'] as const

/** `iotload export <id>`: one run's results as JSON, CSV or `.hgrm`, to a file or stdout. */
export async function exportCommand(args: string[], flags: ExportFlags): Promise<number> {
  const [id, ...extra] = args
  if (!id || extra.length > 0) throw new ConfigError('export', 'name exactly one run id')
  const format = flags.format ?? 'json'
  if (!(FORMATS as readonly string[]).includes(format))
    throw new ConfigError('--format', `expected one of ${FORMATS.join(', ')}, got '${format}'`)
  const kind = flags.kind ?? 'raw'
  if (kind !== 'raw' && kind !== 'co') throw new ConfigError('--kind', `expected raw or co, got '${kind}'`)
  const stream = flags.stream ?? 'e2e'
  const problem = streamProblem(stream, kind)
  if (problem) throw new ConfigError(`--${problem.path}`, problem.message)
  const store = openExistingStore(flags.db)
  let text: string
  try {
    if (!store.getRun(id)) throw new ConfigError(id, `no run with id '${id}' (iotload runs lists them)`)
    if (format === 'json') text = `${JSON.stringify(exportDocument(store, id), null, 2)}\n`
    else if (format === 'csv')
      text = seriesCsv(store.getSeries(id).filter((r) => flags.stream === undefined || r.stream === stream))
    else {
      const merged = runHistogram(store, id, stream, kind)
      if (!merged) throw new ConfigError('--stream', `run ${id} recorded no ${kind} ${stream} values`)
      text = percentileDistributionText(merged.histogram, merged.maxUs)
    }
  } finally {
    store.close()
  }
  if (flags.out && flags.out !== '-') {
    await writeFile(flags.out, text)
    process.stderr.write(`${format}: ${flags.out}\n`)
  } else process.stdout.write(text)
  return EXIT.ok
}
