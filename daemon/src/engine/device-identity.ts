import { type ConnectionCredentials, ConnectionError, type ConnectionWill } from '@iotload/sdk'
import { compilePayloadTemplate } from '../scenario/payload-template.ts'
import type { ProducerConfig } from '../scenario/schema.ts'
import type { ResolvedScenario } from '../scenario/load-scenario.ts'
import { compileTextTemplate } from '../scenario/text-template.ts'

/** What a connection's own identity changes: its client id, credentials, client certificate, will. */
export interface DeviceOverrides {
  clientId?: string
  credentials?: ConnectionCredentials
  will?: ConnectionWill
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
export function identityResolver(
  resolved: ResolvedScenario,
  runId: string,
  role: 'producer' | 'consumer' = 'producer',
): IdentityOf | undefined {
  const table = role === 'producer' ? resolved.identities : undefined
  const tls = resolved.deviceTls
  const willOf =
    role === 'producer' ? compileWill(resolved.scenario.producer.will, resolved.scenario.run.seed) : undefined
  if (!table && !tls && !willOf) return undefined
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
    if (willOf) out.will = willOf(vars)
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

/** `producer.will` compiled: its topic and payload rendered per device (payload seq 0). */
function compileWill(
  will: ProducerConfig['will'],
  seed: number,
): ((v: { device: number; run: string }) => ConnectionWill) | undefined {
  if (!will) return undefined
  const topic = compileTextTemplate(will.topic, 'producer.will.topic')
  const payload = compilePayloadTemplate(will.payload, 'producer.will.payload', seed)
  return (v) => ({ topic: topic(v), payload: payload({ ...v, seq: 0 }), qos: will.qos, retain: will.retain })
}
