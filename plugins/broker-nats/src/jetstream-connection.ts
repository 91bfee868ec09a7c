import {
  type BrokerConnection,
  ClosedError,
  type InboundMessage,
  type OutboundMessage,
  type SubscribeOptions,
  type Subscription,
} from '@iotload/sdk'
import type { ConsumerMessages, JetStreamClient, JetStreamManager } from '@nats-io/jetstream'
import type { MsgHdrs, NatsConnection } from '@nats-io/transport-node'
import type { NatsConfig } from './config.ts'
import { SOURCE, toPublishError } from './errors.ts'
import { fromNatsHeaders, toNatsHeaders } from './headers.ts'
import type { PubAckTracker } from './pub-ack-tracker.ts'
import type { StreamEnsurer } from './stream-ensurer.ts'

type JetStreamModule = typeof import('@nats-io/jetstream')

/** Everything a JetStream connection is built from; the client modules are imported lazily by the plugin. */
export interface JetStreamParts {
  nc: NatsConnection
  js: JetStreamClient
  jsm: JetStreamManager
  lib: JetStreamModule
  headers: () => MsgHdrs
  nanos: (millis: number) => number
  streams: StreamEnsurer
  acks: PubAckTracker
  config: NatsConfig
  clientId: string
  statusDone: Promise<void>
}

/** Consumer names allow letters, digits, `-` and `_`. */
function consumerName(raw: string): string {
  return raw.replace(/[^A-Za-z0-9_-]/g, '_')
}

/**
 * JetStream: publishes resolve on the stream's PubAck; each subscription reads through its own durable
 * pull consumer with explicit acks (one shared durable per `group`, for competing consumers).
 */
export class JetStreamConnection implements BrokerConnection {
  private closing: Promise<void> | undefined
  private readonly subs = new Set<Subscription>()
  private seq = 0

  constructor(private readonly p: JetStreamParts) {}

  publish(topic: string, msg: OutboundMessage): Promise<void> {
    if (this.closing) return Promise.reject(new ClosedError('connection is closed', { source: SOURCE }))
    const ready = this.p.streams.ensure(topic)
    return ready === undefined ? this.send(topic, msg) : ready.then(() => this.send(topic, msg))
  }

  private send(topic: string, msg: OutboundMessage): Promise<void> {
    try {
      return this.p.acks.publish(
        topic,
        msg.payload,
        msg.headers === undefined ? undefined : toNatsHeaders(msg.headers, this.p.headers),
      )
    } catch (err) {
      return Promise.reject(toPublishError(err, topic))
    }
  }

  async subscribe(
    filter: string,
    onMessage: (msg: InboundMessage) => void,
    options?: SubscribeOptions,
  ): Promise<Subscription> {
    if (this.closing) throw new ClosedError('connection is closed', { source: SOURCE })
    const { stream, durablePrefix, ackPolicy, inactiveThresholdS, pullBatch, maxAckPending } =
      this.p.config.jetstream
    await this.p.streams.ensure(filter)
    const group = options?.group
    const durable = consumerName(
      group !== undefined ? `${durablePrefix}-${group}` : `${durablePrefix}-${this.p.clientId}-${++this.seq}`,
    )
    const { AckPolicy, DeliverPolicy } = this.p.lib
    await this.p.jsm.consumers.add(stream, {
      durable_name: durable,
      filter_subject: filter,
      ack_policy:
        ackPolicy === 'none' ? AckPolicy.None : ackPolicy === 'all' ? AckPolicy.All : AckPolicy.Explicit,
      // Only what is published from now on, like a core subscription.
      deliver_policy: DeliverPolicy.New,
      inactive_threshold: this.p.nanos(inactiveThresholdS * 1000),
      ...(ackPolicy !== 'none' && { max_ack_pending: maxAckPending }),
    })
    const consumer = await this.p.js.consumers.get(stream, durable)
    const ack = ackPolicy !== 'none'
    const messages: ConsumerMessages = await consumer.consume({
      max_messages: pullBatch,
      callback: (m) => {
        onMessage({ topic: m.subject, payload: m.data, headers: fromNatsHeaders(m.headers) })
        if (ack) m.ack()
      },
    })
    let done: Promise<void> | undefined
    const sub: Subscription = {
      unsubscribe: () => {
        done ??= (async () => {
          this.subs.delete(sub)
          await messages.close().catch(() => undefined)
          // A shared group durable outlives one member; a private one is removed (inactive_threshold is the backstop).
          if (group === undefined && !this.p.nc.isClosed()) {
            await this.p.jsm.consumers.delete(stream, durable).catch(() => undefined)
          }
        })()
        return done
      },
      // Stored in the stream, matching the filter, not yet delivered to the durable (a group's
      // durable is shared, so every member answers for the group).
      backlog: async () => {
        if (done !== undefined || this.p.nc.isClosed()) return undefined
        try {
          return (await this.p.jsm.consumers.info(stream, durable)).num_pending
        } catch {
          return undefined
        }
      },
    }
    this.subs.add(sub)
    return sub
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.all([...this.subs].map((s) => s.unsubscribe()))
      this.p.acks.close()
      await this.p.nc.close().catch(() => undefined)
      await this.p.statusDone
    })()
    return this.closing
  }
}
