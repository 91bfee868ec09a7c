import { dirname, isAbsolute, join } from 'node:path'
import { ConfigError } from '@iotload/sdk'
import { readAllowedFile, resolveAllowedPath } from './allowed-files.ts'
import { envAllowed, SECRET_ENV_PREFIX, type TrustPolicy } from './trust-policy.ts'

/** Columns an identities file may have; `id` is required, the others optional. */
export const IDENTITY_COLUMNS = ['id', 'username', 'password', 'clientId', 'cert', 'key'] as const
type Column = (typeof IDENTITY_COLUMNS)[number]

/** One device's identity. `cert`/`key` are paths of PEM files, read when the device connects. */
export type DeviceIdentity = Partial<Record<Column, string>> & { id: string }

/** A group's identities: row k is device firstDevice+k (row k mod rows with `wrap`). */
export interface IdentityTable {
  rows: DeviceIdentity[]
  wrap: boolean
  /** The scenario field, for errors (`producer.identities`). */
  field: string
}

/** An identities file of 19,000 rows with paths is about 2 MB; 64 MiB bounds what a request can make the daemon hold. */
const MAX_IDENTITIES_BYTES = 64 * 1024 * 1024
/** Resolved `${env:}`/`${file:}` cells, in bytes: they hold passwords and the like. */
const MAX_RESOLVED_CELL_BYTES = 16 * 1024 * 1024
const REFERENCE = /\$\{(env|file):([^}]+)\}/g

/** Splits one CSV line: commas, double-quoted fields with `""` for a quote. */
export function splitCsvLine(line: string): string[] {
  const cells: string[] = []
  let cell = ''
  let quoted = false
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cell += '"'
        i++
      } else if (ch === '"') quoted = false
      else cell += ch
    } else if (ch === '"' && cell.trim() === '') {
      cell = ''
      quoted = true
    } else if (ch === ',') {
      cells.push(cell.trim())
      cell = ''
    } else cell += ch
  }
  cells.push(cell.trim())
  return cells
}

/** Parses the CSV text: header of known columns with `id`, one row per device, every cell present. */
export function parseIdentities(text: string, field: string): DeviceIdentity[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '' && !l.startsWith('#'))
  const header = splitCsvLine(lines[0] ?? '')
  for (const name of header)
    if (!(IDENTITY_COLUMNS as readonly string[]).includes(name))
      throw new ConfigError(
        field,
        `unknown column '${name}' in the header; columns: ${IDENTITY_COLUMNS.join(', ')}`,
      )
  if (!header.includes('id'))
    throw new ConfigError(field, `the header needs an id column (columns: ${IDENTITY_COLUMNS.join(', ')})`)
  if (new Set(header).size !== header.length)
    throw new ConfigError(field, 'a column is named twice in the header')
  const rows: DeviceIdentity[] = []
  const ids = new Set<string>()
  for (const [i, line] of lines.slice(1).entries()) {
    const cells = splitCsvLine(line)
    if (cells.length !== header.length)
      throw new ConfigError(
        field,
        `row ${i + 1} has ${cells.length} cells, the header ${header.length} columns (${header.join(',')})`,
      )
    const row = Object.fromEntries(
      header.map((h, k) => [h, cells[k]!]).filter(([, v]) => v !== ''),
    ) as DeviceIdentity
    if (!row.id) throw new ConfigError(field, `row ${i + 1} has an empty id`)
    if (ids.has(row.id)) throw new ConfigError(field, `row ${i + 1} repeats the id '${row.id}'`)
    ids.add(row.id)
    rows.push(row)
  }
  return rows
}

interface CellBudget {
  bytes: number
  found: string[]
}

/** Resolves `${env:}`/`${file:}` in one cell under the policy, as in credential fields. */
async function resolveCell(
  value: string,
  where: string,
  policy: TrustPolicy,
  env: NodeJS.ProcessEnv,
  b: CellBudget,
) {
  if (!value.includes('${')) return value
  let out = ''
  let last = 0
  for (const m of value.matchAll(REFERENCE)) {
    out += value.slice(last, m.index)
    const [, kind, ref] = m as unknown as [string, string, string]
    let resolved: string
    if (kind === 'env') {
      if (!envAllowed(policy, ref))
        throw new ConfigError(
          where,
          `\${env:${ref}} is not readable by scenarios sent to the daemon: name it in --secret-env or give it the prefix ${SECRET_ENV_PREFIX}`,
        )
      const v = env[ref]
      if (v === undefined) throw new ConfigError(where, `environment variable ${ref} is not set`)
      resolved = v
    } else
      resolved = (await readAllowedFile(ref, { policy, dir: 'secrets', field: where }))
        .toString('utf8')
        .trimEnd()
    b.bytes += resolved.length
    if (b.bytes > MAX_RESOLVED_CELL_BYTES)
      throw new ConfigError(
        where,
        `references in the identities resolve to more than ${MAX_RESOLVED_CELL_BYTES} bytes`,
      )
    b.found.push(resolved)
    out += resolved
    last = m.index + m[0].length
  }
  return out + value.slice(last)
}

/** Options of `loadIdentities`. */
export interface LoadIdentitiesOptions {
  policy: TrustPolicy
  env: NodeJS.ProcessEnv
  /** Devices the table must cover. */
  devices: number
  wrap: boolean
  /** Secret values found (passwords, resolved references), for the run's scrubbing. */
  found: string[]
}

/**
 * Reads `producer.identities` under the sender's policy (a remote scenario only from the
 * operator's --secrets-dir), checks it covers every device (or `wrap`), resolves references in
 * its cells, and makes `cert`/`key` paths relative to the file's own directory absolute.
 */
export async function loadIdentities(
  path: string,
  field: string,
  o: LoadIdentitiesOptions,
): Promise<IdentityTable> {
  const real = await resolveAllowedPath(path, o.policy, 'secrets', field)
  const data = await readAllowedFile(real, {
    policy: o.policy,
    dir: 'secrets',
    field,
    maxBytes: MAX_IDENTITIES_BYTES,
    timeoutMs: 10_000,
  })
  const rows = parseIdentities(data.toString('utf8'), field)
  if (rows.length === 0)
    throw new ConfigError(field, `'${path}' holds no identities (a header and one row per device)`)
  if (rows.length < o.devices && !o.wrap)
    throw new ConfigError(
      field,
      `'${path}' has ${rows.length} identities for ${o.devices} devices; add rows, or set wrap: true to reuse them in turn`,
    )
  const budget: CellBudget = { bytes: 0, found: o.found }
  const base = dirname(real)
  for (const [i, row] of rows.entries()) {
    for (const col of ['username', 'password', 'clientId'] as const) {
      const v = row[col]
      if (v !== undefined)
        row[col] = await resolveCell(v, `${field} row ${i + 1} ${col}`, o.policy, o.env, budget)
    }
    if (row.password !== undefined) o.found.push(row.password)
    for (const col of ['cert', 'key'] as const) {
      const v = row[col]
      if (v !== undefined && !v.includes('-----BEGIN') && !isAbsolute(v)) row[col] = join(base, v)
    }
  }
  return { rows, wrap: o.wrap, field }
}
