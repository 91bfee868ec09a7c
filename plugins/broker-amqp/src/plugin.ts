import { type BrokerConnection, definePlugin, hostsOf, importLib } from '@iotload/sdk'
import { AmqpConnection } from './amqp-connection.ts'
import { amqpConfigSchema } from './config.ts'
import { toConnectionError } from './connect-error.ts'
import { connectTarget, resolveLogin, socketOptions } from './connect-options.ts'

/**
 * AMQP 0-9-1 through amqplib, tested against RabbitMQ. Publishes go to a durable topic exchange
 * with the topic as routing key ('/' and '.' swapped, so `devices/d1/telemetry` routes as
 * `devices.d1.telemetry`); each subscription gets its own queue bound with the MQTT-style filter
 * translated (`+` → `*`, `#` → `#`), or the shared queue named by `group` for competing consumers.
 *
 * QoS: 0 publishes transient messages (delivery mode 1); 1 and 2 publish persistent messages
 * (delivery mode 2), which survive a broker restart only in a durable queue. With `confirm`
 * (the default) publish resolves on the broker's confirm and rejects with a PublishError on a
 * nack; a message no queue is bound for is confirmed and dropped, as AMQP specifies.
 * String-valued AMQP headers are iotload headers. A subscription's `qos` is not used: whether
 * deliveries are acknowledged is the `ack` setting.
 *
 * Without `broker.auth` the plugin logs in as RabbitMQ's default guest/guest.
 *
 * @example
 * broker: { plugin: amqp, url: amqps://rabbit:5671/iot, tls: { ca: ./ca.pem }, ack: manual }
 */
export const amqpPlugin = definePlugin({
  name: 'amqp',
  configSchema: amqpConfigSchema,
  capabilities: { headers: true, publishAck: true, wildcards: true, fanout: 'group' },
  wildcardSyntax: { single: '+', multi: '#' },
  async connect(config, ctx): Promise<BrokerConnection> {
    const amqp = await importLib(() => import('amqplib'), 'amqplib', '@iotload/broker-amqp')
    const login = resolveLogin(ctx.credentials)
    const connection = new AmqpConnection(config, ctx)
    const { reconnect } = config
    const options = await socketOptions(config, ctx.clientId)
    const model = await amqp.connect(connectTarget(config, login), {
      ...options,
      recovery: {
        initialDelay: reconnect.initialDelay,
        maxDelay: reconnect.maxDelay,
        // A wrong password or a dead host must fail connect, not loop: no retry before the first success.
        initialMaxRetries: 0,
        maxRetries: reconnect.enabled ? Number.POSITIVE_INFINITY : 0,
        waitForConnect: false,
        setup: connection.restore,
      },
    })
    connection.attach(model)
    let timer: NodeJS.Timeout | undefined
    try {
      await Promise.race([
        model.waitForConnect(),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`connect ETIMEDOUT: no AMQP session within ${config.connectTimeout} ms`)),
            config.connectTimeout,
          )
        }),
      ])
    } catch (err) {
      await connection.close()
      throw toConnectionError(err, config.url)
    } finally {
      clearTimeout(timer)
    }
    ctx.onStatus?.('connected')
    return connection
  },
  brokerHosts: (config) => hostsOf([config.url]),
})
