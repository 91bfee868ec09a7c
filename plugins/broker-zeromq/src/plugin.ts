import { definePlugin, importLib } from '@iotload/sdk'
import { zeromqConfigSchema } from './config.ts'
import { openConnection } from './open-connection.ts'
import { zeromqPeerHosts } from './peer-hosts.ts'
import { ZEROMQ_WILDCARDS } from './topic-filter.ts'

/**
 * Brokerless ZeroMQ: every role owns one socket and the scenario decides who binds and who
 * connects (`broker.endpoints`). PUB/SUB (`mode: pubsub`) or PUSH/PULL (`mode: pushpull`).
 * Frames are topic / JSON headers / payload. ZeroMQ has no acknowledgements, so `publish`
 * resolves once libzmq has queued the frames.
 *
 * @example
 * broker:
 *   plugin: zeromq
 *   mode: pubsub
 *   endpoint: tcp://127.0.0.1:5555   # consumer binds, producers connect
 */
export const zeromqPlugin = definePlugin({
  name: 'zeromq',
  configSchema: zeromqConfigSchema,
  capabilities: { headers: true, publishAck: false, wildcards: true },
  wildcardSyntax: ZEROMQ_WILDCARDS,
  async connect(config, ctx) {
    const zmq = await importLib(() => import('zeromq'), 'zeromq', '@iotload/broker-zeromq')
    return openConnection(zmq, config, ctx)
  },
  brokerHosts: zeromqPeerHosts,
})

export default zeromqPlugin
