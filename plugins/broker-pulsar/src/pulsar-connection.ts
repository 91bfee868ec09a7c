import {
  type BrokerConnection,
  ClosedError,
  type InboundMessage,
  type OutboundMessage,
  type PausableSubscription,
  type PluginContext,
  type SubscribeOptions,
} from '@iotload/sdk'
import type { PulsarConfig } from './config.ts'
import { PulsarConsumer } from './consumer.ts'
import { closeEndpoints, keepConsumer } from './endpoints.ts'
import type { SocketEnv } from './managed-socket.ts'
import { PulsarProducer } from './producer.ts'
import { planSubscription } from './subscription-plan.ts'
import { consumerUrl, displayUrl, producerUrl, toPulsarTopic } from './topic-url.ts'

const SOURCE = 'broker-pulsar'

/** Pulsar subscriptions always declare the sdk's pause capability (acks are withheld). */
export type { PausableSubscription }

/**
 * One iotload connection over the Pulsar WebSocket API: a lazily opened producer socket per
 * topic it publishes to, and a consumer socket per subscription.
 */
export class PulsarConnection implements BrokerConnection {
  private readonly producers = new Map<string, PulsarProducer>()
  private readonly consumers = new Set<PulsarConsumer>()
  private closed = false
  private subSeq = 0

  constructor(
    private readonly config: PulsarConfig,
    private readonly ctx: PluginContext,
    private readonly env: SocketEnv,
    /** Token for the `token` query parameter, when `authIn: query`. */
    private readonly queryToken: string | undefined,
  ) {}

  publish(topic: string, msg: OutboundMessage): Promise<void> {
    if (this.closed)
      return Promise.reject(new ClosedError('publish on a closed connection', { source: SOURCE }))
    const producer = this.producers.get(topic) ?? this.openProducer(topic)
    return producer.publish(msg)
  }

  async subscribe(
    filter: string,
    onMessage: (msg: InboundMessage) => void,
    options: SubscribeOptions = {},
  ): Promise<PausableSubscription> {
    if (this.closed) throw new ClosedError('subscribe on a closed connection', { source: SOURCE })
    const { config } = this
    const plan = planSubscription(config, this.ctx.clientId, options.group, ++this.subSeq)
    const url = consumerUrl(config, toPulsarTopic(filter, config), {
      subscription: plan.name,
      type: plan.type,
      mode: plan.mode,
      consumerName: this.ctx.clientId,
      token: this.queryToken,
    })
    const consumer = new PulsarConsumer(this.env, url, onMessage, {
      topic: filter,
      ackMode: config.ackMode,
      logger: this.ctx.logger,
    })
    await consumer.start()
    return keepConsumer(this.consumers, consumer, this.closed)
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await closeEndpoints(this.producers, this.consumers)
  }

  private openProducer(topic: string): PulsarProducer {
    const url = producerUrl(this.config, toPulsarTopic(topic, this.config), {
      token: this.queryToken,
    })
    const producer = new PulsarProducer(this.env, url, this.config.maxQueued, displayUrl(url))
    this.producers.set(topic, producer)
    producer.start().catch((err: unknown) => {
      // Forget a producer that never opened, so a later publish tries afresh.
      if (this.producers.get(topic) === producer) this.producers.delete(topic)
      this.ctx.logger.warn('pulsar producer could not open', { topic, error: String(err) })
    })
    return producer
  }
}
