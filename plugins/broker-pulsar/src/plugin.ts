import {
  type BrokerConnection,
  type ConnectionRole,
  definePlugin,
  hostsOf,
  importLib,
  loadTlsMaterial,
  type PluginContext,
} from '@iotload/sdk'
import type { ClientOptions } from 'ws'
import { connectBinary } from './binary/connect-binary.ts'
import { isBinaryUrl, type PulsarConfig, pulsarConfigSchema } from './config.ts'
import { ManagedSocket, type SocketEnv } from './managed-socket.ts'
import { PulsarConnection } from './pulsar-connection.ts'
import { StatusTracker } from './status-tracker.ts'
import { producerUrl, readerUrl, toPulsarTopic } from './topic-url.ts'

/** Topic the connect probe opens (a reader or a producer, never a subscription). */
export const PROBE_TOPIC = 'iotload-probe'

/** Handshake options: timeouts, credentials as headers, TLS material. */
export async function socketOptions(config: PulsarConfig, ctx: PluginContext): Promise<ClientOptions> {
  const headers: Record<string, string> = {}
  const cred = ctx.credentials
  if (cred?.token !== undefined && config.authIn === 'header') headers.Authorization = `Bearer ${cred.token}`
  else if (cred?.username !== undefined && cred.password !== undefined)
    headers.Authorization = `Basic ${Buffer.from(`${cred.username}:${cred.password}`).toString('base64')}`
  const options: ClientOptions = {
    handshakeTimeout: config.connectTimeout,
    perMessageDeflate: false,
    headers,
  }
  if (config.tls) Object.assign(options, await loadTlsMaterial(config.tls))
  return options
}

const PRODUCING_ROLES: ReadonlySet<ConnectionRole> = new Set(['producer', 'bridge-out'])

/** Opens and closes one socket, so a wrong URL, token or certificate fails `connect`. */
async function probe(config: PulsarConfig, ctx: PluginContext, env: SocketEnv, token: string | undefined) {
  const topic = toPulsarTopic(PROBE_TOPIC, config)
  // Producers probe with a producer, everyone else with a reader: each needs only its own permission.
  const url = PRODUCING_ROLES.has(ctx.role)
    ? producerUrl(config, topic, { token })
    : readerUrl(config, topic, token)
  const socket = new ManagedSocket(env, url, {
    onMessage: () => undefined,
    onOpen: () => undefined,
    onDown: () => undefined,
  })
  await socket.open()
  await socket.close()
}

/**
 * Apache Pulsar over its WebSocket API (`ws`), or over its binary protocol for pulsar:// and
 * pulsar+ssl:// URLs (see binary/). Over WebSocket: one producer socket per topic, publishes resolve
 * on the broker's ack, properties as headers, the message key from `OutboundMessage.key`,
 * Exclusive/Shared/Key_Shared/Failover subscriptions, token or basic auth, wss with TLS material.
 * No wildcard subscriptions: the WebSocket API's pattern consumer does not say which topic a
 * message came from. '/' in iotload topics becomes `slashReplacement` ('.').
 *
 * @example
 * broker: { plugin: pulsar, url: ws://127.0.0.1:8080, subscriptionType: Key_Shared }
 */
export const pulsarPlugin = definePlugin({
  name: 'pulsar',
  configSchema: pulsarConfigSchema,
  capabilities: { headers: true, publishAck: true, wildcards: false, fanout: 'group' },
  async connect(config, ctx): Promise<BrokerConnection> {
    if (isBinaryUrl(config.url)) return connectBinary(config, ctx)
    const ws = await importLib(() => import('ws'), 'ws', '@iotload/broker-pulsar')
    const env: SocketEnv = {
      WebSocket: ws.default,
      options: await socketOptions(config, ctx),
      status: new StatusTracker(ctx.onStatus),
      logger: ctx.logger,
      reconnectMs: config.reconnectPeriod,
    }
    const queryToken = config.authIn === 'query' ? ctx.credentials?.token : undefined
    if (config.probe) await probe(config, ctx, env, queryToken)
    ctx.onStatus?.('connected')
    return new PulsarConnection(config, ctx, env, queryToken)
  },
  brokerHosts: (config) => hostsOf([config.url]),
})
