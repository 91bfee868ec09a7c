import { ConnectionError, definePlugin, describeError, hostsOf, importLib } from '@iotload/sdk'
import type { NatsConnection } from '@nats-io/transport-node'
import { type NatsConfig, natsConfigSchema, serverList } from './config.ts'
import { connectOptions } from './connect-options.ts'
import { CoreConnection } from './core-connection.ts'
import { displayServers, SOURCE, toConnectionError } from './errors.ts'
import { JetStreamConnection } from './jetstream-connection.ts'
import { PubAckTracker } from './pub-ack-tracker.ts'
import { forwardStatus } from './status.ts'
import { StreamEnsurer } from './stream-ensurer.ts'

const PACKAGE = '@iotload/broker-nats'

/**
 * NATS core and JetStream, one plugin: `mode` picks the semantics.
 *
 * Capabilities are static, so they describe both modes honestly:
 * - `publishAck: true`. In JetStream mode `publish` resolves on the stream's PubAck (stored). In core mode
 *   it resolves after a PING/PONG round trip issued behind the message, which proves the server has
 *   processed it (core NATS stores nothing, so that is the strongest ack it has); one flush covers every
 *   publish of the same tick.
 * - `headers: true` (NATS headers), `wildcards: true` with NATS syntax `*` and `>`.
 * - qos and key are ignored: core is at-most-once, JetStream at-least-once with explicit acks; NATS keeps
 *   per-connection order per subject anyway.
 *
 * @example
 * broker: { plugin: nats, url: 'nats://127.0.0.1:4222', mode: jetstream, jetstream: { stream: IOT } }
 */
export default definePlugin({
  name: 'nats',
  configSchema: natsConfigSchema,
  capabilities: { headers: true, publishAck: true, wildcards: true, fanout: 'subscription' },
  wildcardSyntax: { single: '*', multi: '>' },
  async connect(config: NatsConfig, ctx) {
    const nats = await importLib(() => import('@nats-io/transport-node'), '@nats-io/transport-node', PACKAGE)
    const servers = serverList(config)
    let nc: NatsConnection
    try {
      nc = await nats.connect(await connectOptions(config, ctx))
    } catch (err) {
      throw toConnectionError(err, servers)
    }
    const statusDone = forwardStatus(nc, ctx).catch(() => undefined)
    void nc.closed().then((err) => {
      // Resolves with an Error only when the client gave up (reconnect attempts exhausted).
      if (err) ctx.onStatus?.('disconnected', describeError(err))
    })
    if (config.mode === 'core') return new CoreConnection(nc, nats.headers, statusDone)

    const lib = await importLib(() => import('@nats-io/jetstream'), '@nats-io/jetstream', PACKAGE)
    try {
      const jsm = await lib.jetstreamManager(nc)
      return new JetStreamConnection({
        nc,
        js: lib.jetstream(nc),
        jsm,
        lib,
        headers: nats.headers,
        nanos: nats.nanos,
        streams: new StreamEnsurer(jsm, lib, config, servers.join(',')),
        acks: new PubAckTracker(nc, nats.createInbox(), config.jetstream.ackTimeoutMs),
        config,
        clientId: ctx.clientId,
        statusDone,
      })
    } catch (err) {
      await nc.close().catch(() => undefined)
      throw new ConnectionError(
        'protocol',
        `JetStream is not available at ${displayServers(servers)}: ${describeError(err)}`,
        { source: SOURCE, cause: err },
      )
    }
  },
  brokerHosts: (config: NatsConfig) => hostsOf(serverList(config)),
})
