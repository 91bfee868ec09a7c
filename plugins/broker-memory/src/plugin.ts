import { type BrokerConnection, ConnectionError, definePlugin } from '@iotload/sdk'
import { memoryConfigSchema } from './config.ts'
import { memoryBus } from './memory-bus.ts'
import { MemoryConnection } from './memory-connection.ts'

/**
 * An in-process broker: connections on the same named bus exchange messages without a network.
 * MQTT-style topics and wildcards, QoS 0 (resolves at once) and QoS ≥ 1 (resolves once routed),
 * headers, groups, pausable subscriptions, and simulated latency, loss and outages. Credentials
 * are accepted and ignored. For tests of the engine, the bridge and the daemon that are not about
 * a particular broker.
 *
 * @example
 * broker: { plugin: memory, bus: engine-test, latency: 1ms }
 */
export const memoryPlugin = definePlugin({
  name: 'memory',
  configSchema: memoryConfigSchema,
  capabilities: { headers: true, publishAck: true, wildcards: true, fanout: 'subscription' },
  wildcardSyntax: { single: '+', multi: '#' },
  async connect(config, ctx): Promise<BrokerConnection> {
    const bus = memoryBus(config.bus)
    if (bus.isDown)
      throw new ConnectionError('unreachable', `bus '${config.bus}' is down (simulated outage)`, {
        source: 'broker-memory',
      })
    const connection = new MemoryConnection(bus, config, ctx)
    ctx.onStatus?.('connected')
    return connection
  },
  // The bus lives in the run's own process: nothing else needs this machine's cores.
  brokerHosts: () => [],
})
