import type { ResultWriter, RunStatus, SecondRecord } from '../../store/result-store.ts'

/** What a run wrote, in order. */
export interface RecordedWrites {
  created: Array<{ id: string; name: string; createdAt: number }>
  statuses: RunStatus[]
  seconds: SecondRecord[]
  summaryRows: number
  errors: Array<string | null | undefined>
}

/**
 * The engine's side of `ResultWriter` (create, update, append a second, save the summary), kept in
 * memory for assertions; the read methods the engine never calls throw. `failAfterCreate` makes
 * every write after `createRun` throw, as a disk that fills up mid-run would.
 */
export function recordingStore(
  options: { failAfterCreate?: boolean } = {},
): ResultWriter & { writes: RecordedWrites } {
  const writes: RecordedWrites = { created: [], statuses: [], seconds: [], summaryRows: 0, errors: [] }
  const write =
    <A extends unknown[]>(fn: (...args: A) => void) =>
    (...args: A) => {
      if (options.failAfterCreate && writes.created.length > 0) throw new Error('disk full')
      fn(...args)
    }
  return {
    writes,
    createRun: write((run) => writes.created.push({ id: run.id, name: run.name, createdAt: run.createdAt })),
    updateRun: write((_id, fields) => {
      if (fields.status) writes.statuses.push(fields.status)
      if ('error' in fields) writes.errors.push(fields.error)
    }),
    appendSecond: write((_id, report) => writes.seconds.push(report)),
    saveSummary: write((_id, rows) => {
      writes.summaryRows = rows.length
    }),
  }
}
