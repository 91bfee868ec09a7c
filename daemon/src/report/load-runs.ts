import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { ConfigError } from '@iotload/sdk'
import type { ResultReader } from '../store/result-store.ts'
import { reportRunFromDocument } from './export-document.ts'
import { type ReportRun, reportRunFromStore } from './report-model.ts'

/** A run id as the store generates them (and the API accepts). */
const RUN_ID = /^[A-Za-z0-9_-]{1,64}$/

/** Whether a report argument names a result file rather than a stored run. */
export function isResultFile(ref: string): boolean {
  return ref.endsWith('.json') || ref.includes('/') || !RUN_ID.test(ref) || existsSync(ref)
}

/**
 * Runs for a report, in the order given: each reference is a run id in `store` (opened only when
 * one is needed) or a result file (`iotload run --json`, `iotload export --format json`).
 */
export async function loadReportRuns(
  refs: readonly string[],
  openStore: () => ResultReader,
): Promise<ReportRun[]> {
  const runs: ReportRun[] = []
  let store: ResultReader | undefined
  for (const ref of refs) {
    if (isResultFile(ref)) {
      let text: string
      try {
        text = await readFile(ref, 'utf8')
      } catch (err) {
        throw new ConfigError(ref, `cannot read the result file: ${(err as Error).message}`)
      }
      let doc: unknown
      try {
        doc = JSON.parse(text)
      } catch (err) {
        throw new ConfigError(ref, `not JSON: ${(err as Error).message}`)
      }
      runs.push(reportRunFromDocument(doc, ref))
      continue
    }
    store ??= openStore()
    const run = reportRunFromStore(store, ref)
    if (!run)
      throw new ConfigError(ref, `no run with id '${ref}' in the results database (iotload runs lists them)`)
    runs.push(run)
  }
  return runs
}
