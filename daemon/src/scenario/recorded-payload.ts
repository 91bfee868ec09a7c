import { ConfigError } from '@iotload/sdk'
import { readAllowedFile } from './allowed-files.ts'
import { splitCsvLine } from './identities-file.ts'
import { compilePayloadTemplate, type PayloadVars } from './payload-template.ts'
import type { TrustPolicy } from './trust-policy.ts'

/** How devices walk the recorded rows. */
export type PayloadOrder = 'sequential' | 'random'

/** `payload: { file, order }`: real messages replayed; each row is still a payload template. */
export interface RecordedPayload {
  file: string
  order: PayloadOrder
  rows: number
  /** The rows as read: what a run's worker thread compiles again (functions cannot cross threads). */
  data: Record<string, unknown>[]
  /** Renders row `row` for the device and seq in `v`. */
  render(row: number, v: PayloadVars): string
}

/** A day of telemetry from a few thousand devices; bounded so a request cannot make the daemon hold gigabytes. */
const MAX_PAYLOAD_FILE_BYTES = 128 * 1024 * 1024

/**
 * The recorded-payload form of `producer.payload`: an object with `file` (and optionally `order`)
 * only. Anything else is an ordinary payload template.
 */
export function recordedPayloadSpec(payload: unknown): { file: string; order: PayloadOrder } | undefined {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return undefined
  const p = payload as Record<string, unknown>
  const keys = Object.keys(p)
  if (typeof p.file !== 'string' || !keys.every((k) => k === 'file' || k === 'order')) return undefined
  return { file: p.file, order: p.order === 'random' ? 'random' : 'sequential' }
}

/** A CSV cell as JSON: numbers and booleans stay typed, the rest are strings. */
function csvValue(cell: string): unknown {
  if (cell === 'true' || cell === 'false') return cell === 'true'
  if (cell !== '' && /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(cell)) return Number(cell)
  return cell
}

/** NDJSON (one JSON object per line) or CSV (header, then one row per message) into row objects. */
export function parseRecordedRows(text: string, file: string, field: string): Record<string, unknown>[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '')
  if (/\.csv$/i.test(file)) {
    const header = splitCsvLine(lines[0] ?? '')
    return lines.slice(1).map((line, i) => {
      const cells = splitCsvLine(line)
      if (cells.length !== header.length)
        throw new ConfigError(
          field,
          `row ${i + 1} of '${file}' has ${cells.length} cells, the header ${header.length}`,
        )
      return Object.fromEntries(header.map((h, k) => [h, csvValue(cells[k]!)]))
    })
  }
  return lines.map((line, i) => {
    let doc: unknown
    try {
      doc = JSON.parse(line)
    } catch {
      throw new ConfigError(field, `line ${i + 1} of '${file}' is not JSON (NDJSON: one object per line)`)
    }
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
      throw new ConfigError(field, `line ${i + 1} of '${file}' is not a JSON object`)
    return doc as Record<string, unknown>
  })
}

/**
 * Reads and compiles a recorded payload under the sender's policy (a remote scenario: only from
 * the daemon's --secrets-dir). Every row is compiled as a template now, so a bad placeholder in
 * row 9,000 is an error before the run, naming the row.
 */
export async function loadRecordedPayload(
  spec: { file: string; order: PayloadOrder },
  field: string,
  policy: TrustPolicy,
  seed: number,
): Promise<RecordedPayload> {
  const data = await readAllowedFile(spec.file, {
    policy,
    dir: 'secrets',
    field: `${field}.file`,
    maxBytes: MAX_PAYLOAD_FILE_BYTES,
    timeoutMs: 10_000,
  })
  const rows = parseRecordedRows(data.toString('utf8'), spec.file, `${field}.file`)
  if (rows.length === 0) throw new ConfigError(`${field}.file`, `'${spec.file}' holds no messages`)
  return compileRecordedPayload(spec, rows, field, seed)
}

/** Compiles read rows (see loadRecordedPayload); a worker thread does it again with the same rows. */
export function compileRecordedPayload(
  spec: { file: string; order: PayloadOrder },
  rows: Record<string, unknown>[],
  field: string,
  seed: number,
): RecordedPayload {
  const renders = rows.map((row, i) => compilePayloadTemplate(row, `${field} (row ${i + 1})`, seed))
  return {
    file: spec.file,
    order: spec.order,
    rows: rows.length,
    data: rows,
    render: (row, v) => renders[row]!(v),
  }
}

/**
 * The row a device's message takes: `sequential` replays the rows in order per device (seq n →
 * row n mod rows); `random` picks a row from (seed, device, seq), the same in every run.
 */
export function rowFor(order: PayloadOrder, rows: number, seed: number, device: number, seq: number): number {
  if (order === 'sequential') return seq % rows
  let h = (seed ^ Math.imul(device + 1, 0x9e3779b1) ^ Math.imul(seq + 1, 0x85ebca6b)) >>> 0
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0
  return ((h ^ (h >>> 16)) >>> 0) % rows
}
