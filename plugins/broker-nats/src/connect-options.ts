import { loadTlsMaterial, type PluginContext } from '@iotload/sdk'
import type { NodeConnectionOptions } from '@nats-io/transport-node'
import { type NatsConfig, serverList } from './config.ts'

/** Translates the validated config and per-connection context into `connect()` options. */
export async function connectOptions(config: NatsConfig, ctx: PluginContext): Promise<NodeConnectionOptions> {
  const opts: NodeConnectionOptions = {
    servers: serverList(config),
    name: ctx.clientId,
    timeout: config.connectTimeoutMs,
    reconnect: config.reconnect.enabled,
    maxReconnectAttempts: config.reconnect.maxAttempts,
    reconnectTimeWait: config.reconnect.waitMs,
    // A load test measures the broker, not the client's stack-trace bookkeeping.
    noAsyncTraces: true,
  }
  const creds = ctx.credentials
  if (creds?.username !== undefined) opts.user = creds.username
  if (creds?.password !== undefined) opts.pass = creds.password
  if (creds?.token !== undefined) opts.token = creds.token
  if (config.tls) {
    const m = await loadTlsMaterial(config.tls)
    // nats.js hands these to tls.connect as they are; PEM text goes in as strings.
    opts.tls = {
      rejectUnauthorized: m.rejectUnauthorized,
      ...(m.ca && { ca: m.ca.toString() }),
      ...(m.cert && { cert: m.cert.toString() }),
      ...(m.key && { key: m.key.toString() }),
      ...(m.passphrase !== undefined && { passphrase: m.passphrase }),
      ...(m.servername !== undefined && { servername: m.servername }),
    } as NonNullable<NodeConnectionOptions['tls']>
  }
  return opts
}
