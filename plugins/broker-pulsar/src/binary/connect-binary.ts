import {
  type BrokerConnection,
  type ConnectionCredentials,
  loadTlsMaterial,
  type PluginContext,
} from '@iotload/sdk'
import type { PulsarConfig } from '../config.ts'
import { StatusTracker } from '../status-tracker.ts'
import { BinaryClient } from './binary-client.ts'
import { BinaryConnection } from './binary-connection.ts'
import { BrokerPool } from './broker-pool.ts'
import type { AuthData } from './commands.ts'

/** The credentials as CONNECT carries them: Pulsar's `token` or `basic` authentication method. */
export function authData(cred: ConnectionCredentials | undefined): AuthData | undefined {
  if (cred?.token !== undefined) return { method: 'token', data: Buffer.from(cred.token) }
  if (cred?.username !== undefined && cred.password !== undefined)
    return { method: 'basic', data: Buffer.from(`${cred.username}:${cred.password}`) }
  return undefined
}

/**
 * Opens one binary-protocol connection (TCP, or TLS for pulsar+ssl://) and authenticates, so a
 * wrong URL, credential or CA fails here with a ConnectionError; then the iotload connection
 * over it.
 */
export async function connectBinary(config: PulsarConfig, ctx: PluginContext): Promise<BrokerConnection> {
  const url = new URL(config.url)
  const secure = url.protocol === 'pulsar+ssl:'
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1')
  const client = new BinaryClient({
    host,
    port: url.port === '' ? (secure ? 6651 : 6650) : Number(url.port),
    tls: secure ? await loadTlsMaterial(config.tls ?? { verify: true }) : undefined,
    auth: authData(ctx.credentials),
    status: new StatusTracker(ctx.onStatus),
    logger: ctx.logger,
    reconnectMs: config.reconnectPeriod,
    connectTimeoutMs: config.connectTimeout,
    where: `${url.protocol}//${url.host}`,
  })
  await client.open()
  ctx.onStatus?.('connected')
  return new BinaryConnection(config, ctx, new BrokerPool(client, config.connectVia))
}
