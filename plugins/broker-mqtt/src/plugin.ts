import {
  type BrokerConnection,
  definePlugin,
  hostsOf,
  importLib,
  loadTlsMaterial,
  type PluginContext,
} from '@iotload/sdk'
import type { IClientOptions, MqttClient } from 'mqtt'
import { type MqttConfig, mqttConfigSchema } from './config.ts'
import { toConnectionError } from './connect-error.ts'
import { MqttConnection } from './mqtt-connection.ts'

const noLog = (): void => {}

async function clientOptions(config: MqttConfig, ctx: PluginContext): Promise<IClientOptions> {
  const options: IClientOptions = {
    clientId: ctx.clientId,
    protocolVersion: config.version === '5' ? 5 : 4,
    clean: config.clean,
    keepalive: config.keepalive,
    connectTimeout: config.connectTimeout,
    // No retries until the first connect succeeded: a wrong password must fail, not loop.
    reconnectPeriod: 0,
    resubscribe: true,
    // mqtt.js formats a debug line per packet unless given a logger: ~4% of CPU at 60k msg/s.
    log: noLog,
  }
  if (config.version === '5' && !config.clean)
    options.properties = { sessionExpiryInterval: config.sessionExpiry }
  if (ctx.credentials?.username !== undefined) options.username = ctx.credentials.username
  if (ctx.credentials?.password !== undefined) options.password = ctx.credentials.password
  if (config.tls) Object.assign(options, await loadTlsMaterial(config.tls))
  if (ctx.will)
    options.will = {
      topic: ctx.will.topic,
      payload: Buffer.from(ctx.will.payload),
      qos: ctx.will.qos,
      retain: ctx.will.retain,
    }
  if (config.topicAliases) options.autoAssignTopicAlias = true
  // A device's own client certificate (per-device identities) replaces the shared one.
  if (ctx.credentials?.cert !== undefined) options.cert = ctx.credentials.cert
  if (ctx.credentials?.key !== undefined) options.key = ctx.credentials.key
  return options
}

function awaitFirstConnect(client: MqttClient, url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      client.off('connect', onConnect)
      client.off('error', onError)
      client.off('close', onClose)
    }
    const onConnect = () => {
      cleanup()
      resolve()
    }
    const onError = (err: Error) => {
      cleanup()
      client.end(true)
      reject(toConnectionError(err, url))
    }
    const onClose = () => {
      cleanup()
      client.end(true)
      reject(toConnectionError(new Error('connection closed before CONNACK'), url))
    }
    client.on('connect', onConnect)
    client.on('error', onError)
    client.on('close', onClose)
  })
}

/**
 * MQTT 3.1.1 and 5 through mqtt.js: QoS 0/1/2, clean or persistent sessions, MQTT 5 user
 * properties as headers, TLS with client certificates, `$share/` groups for competing consumers.
 *
 * @example
 * broker: { plugin: mqtt, url: mqtts://broker:8883, version: '5', tls: { ca: ./ca.pem } }
 */
export const mqttPlugin = definePlugin({
  name: 'mqtt',
  configSchema: mqttConfigSchema,
  capabilities: { headers: true, publishAck: true, wildcards: true, fanout: 'subscription' },
  wildcardSyntax: { single: '+', multi: '#' },
  async connect(config, ctx): Promise<BrokerConnection> {
    const mqtt = await importLib(() => import('mqtt'), 'mqtt', '@iotload/broker-mqtt')
    const client = mqtt.connect(config.url, await clientOptions(config, ctx))
    // Handlers go on before CONNACK: a stored session may deliver in the same packet burst.
    const connection = new MqttConnection(
      client,
      ctx,
      config.retain,
      config.messageExpiry,
      config.version === '5',
      config.keepalive,
    )
    connection.topicAliases = config.topicAliases
    await awaitFirstConnect(client, config.url)
    client.options.reconnectPeriod = config.reconnectPeriod
    ctx.onStatus?.('connected')
    return connection
  },
  brokerHosts: (config) => hostsOf([config.url]),
})
