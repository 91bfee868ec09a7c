import { type ConnectionCredentials, ConnectionError } from '@iotload/sdk'
import type { ResolvedScenario } from '../scenario/load-scenario.ts'
import { compileTextTemplate } from '../scenario/text-template.ts'

/** What a connection's own identity changes: its client id, credentials, client certificate. */
export interface DeviceOverrides {
  clientId?: string
  credentials?: ConnectionCredentials
}

/** Connection i (device `device`)'s own identity; rejects with a ConnectionError naming the device. */
export type IdentityOf = (i: number, device: number) => Promise<DeviceOverrides>

/**
 * The producer's per-device identities: a row of `producer.identities` (row i, or i mod rows with
 * `wrap`) and/or the client certificate at `broker.tls.cert`/`key` rendered for the device. PEM
 * files are read as the device connects, under the scenario's policy; one that cannot be read
 * fails that device alone (cause `tls`, counted against `producer.maxConnectFailures`).
 * Undefined when the scenario has neither.
 */
export function identityResolver(resolved: ResolvedScenario, runId: string): IdentityOf | undefined {
  const table = resolved.identities
  const tls = resolved.deviceTls
  if (!table && !tls) return undefined
  const certOf = tls?.cert ? compileTextTemplate(tls.cert, 'broker.tls.cert') : undefined
  const keyOf = tls?.key ? compileTextTemplate(tls.key, 'broker.tls.key') : undefined
  const read = resolved.readDevicePem
  return async (i, device) => {
    const row = table ? table.rows[table.wrap ? i % table.rows.length : i] : undefined
    const who = `device ${device}${row ? ` (${row.id})` : ''}`
    const out: DeviceOverrides = {}
    const creds: ConnectionCredentials = {}
    if (row?.clientId !== undefined) out.clientId = row.clientId
    if (row?.username !== undefined) creds.username = row.username
    if (row?.password !== undefined) creds.password = row.password
    const vars = { device, run: runId }
    const certPath = row?.cert ?? certOf?.(vars)
    const keyPath = row?.key ?? keyOf?.(vars)
    const pem = async (path: string, what: 'cert' | 'key') => {
      if (path.includes('-----BEGIN')) return path
      if (!read) throw new Error('no file reader')
      const field =
        table && row?.[what] !== undefined ? `${table.field} ${row.id} ${what}` : `broker.tls.${what}`
      try {
        return await read(path, field)
      } catch (err) {
        throw new ConnectionError(
          'tls',
          `${who}: client ${what === 'cert' ? 'certificate' : 'key'}: ${(err as Error).message}`,
          {
            cause: err,
          },
        )
      }
    }
    if (certPath !== undefined) creds.cert = await pem(certPath, 'cert')
    if (keyPath !== undefined) creds.key = await pem(keyPath, 'key')
    if (Object.keys(creds).length > 0) out.credentials = creds
    return out
  }
}
