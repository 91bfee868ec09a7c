import {
  type BrokerConnection,
  ClosedError,
  ConnectionError,
  type InboundMessage,
  type OutboundMessage,
  type PausableSubscription,
  type PluginContext,
  type PublishCallback,
  type SubscribeOptions,
} from '@iotload/sdk'
import type { PulsarConfig } from '../config.ts'
import { closeEndpoints, keepConsumer } from '../endpoints.ts'
import { planSubscription } from '../subscription-plan.ts'
import { type PulsarTopic, toPulsarTopic } from '../topic-url.ts'
import { BrokerError } from './binary-client.ts'
import { BinaryConsumer } from './binary-consumer.ts'
import { BinaryProducer } from './binary-producer.ts'
import type { BrokerPool } from './broker-pool.ts'
import { ServerError, SubTypeCode } from './commands.ts'

const SOURCE = 'broker-pulsar'

/** A refused SUBSCRIBE as the sdk's error kinds: busy and not-authorized say so. */
function subscribeError(err: unknown, topic: string, subscription: string): Error {
  if (!(err instanceof BrokerError)) return err instanceof Error ? err : new Error(String(err))
  const options = { source: SOURCE, cause: err }
  if (err.code === ServerError.AuthorizationError || err.code === ServerError.AuthenticationError)
    return new ConnectionError('auth', `not authorized to subscribe to ${topic}: ${err.message}`, options)
  if (err.code === ServerError.ConsumerBusy)
    return new ConnectionError(
      'protocol',
      `subscription ${subscription} on ${topic} is busy (${err.message}): an Exclusive/Failover subscription already has its consumer`,
      options,
    )
  return new ConnectionError('protocol', `cannot subscribe to ${topic}: ${err.message}`, options)
}

/** `persistent://tenant/ns/local`, the name the binary protocol uses. */
export function fullTopicName(t: PulsarTopic): string {
  return `${t.domain}://${t.tenant}/${t.namespace}/${t.local}`
}

/**
 * One iotload connection over Pulsar's binary protocol: one TCP connection (BinaryClient) that
 * carries a lazily registered producer per topic and a consumer per subscription.
 */
export class BinaryConnection implements BrokerConnection {
  private readonly producers = new Map<string, BinaryProducer>()
  private readonly consumers = new Set<BinaryConsumer>()
  private closed = false
  private subSeq = 0

  constructor(
    private readonly config: PulsarConfig,
    private readonly ctx: PluginContext,
    private readonly pool: BrokerPool,
  ) {}

  publishWith(topic: string, msg: OutboundMessage, done: PublishCallback): void {
    if (this.closed) {
      done(new ClosedError('publish on a closed connection', { source: SOURCE }))
      return
    }
    const producer = this.producers.get(topic) ?? this.openProducer(topic)
    producer.publishWith(msg, done)
  }

  publish(topic: string, msg: OutboundMessage): Promise<void> {
    return new Promise((resolve, reject) =>
      this.publishWith(topic, msg, (err) => (err ? reject(err) : resolve())),
    )
  }

  async subscribe(
    filter: string,
    onMessage: (msg: InboundMessage) => void,
    options: SubscribeOptions = {},
  ): Promise<PausableSubscription> {
    if (this.closed) throw new ClosedError('subscribe on a closed connection', { source: SOURCE })
    const { config } = this
    const plan = planSubscription(config, this.ctx.clientId, options.group, ++this.subSeq)
    const topic = fullTopicName(toPulsarTopic(filter, config))
    const consumer = new BinaryConsumer(
      {
        topic,
        iotloadTopic: filter,
        subscription: plan.name,
        subType: SubTypeCode[plan.type],
        durable: plan.mode === 'Durable',
        initialPosition: config.initialPosition === 'Earliest' ? 1 : 0,
        consumerName: this.ctx.clientId,
        queueSize: config.receiverQueueSize,
        ackMode: config.ackMode,
        logger: this.ctx.logger,
      },
      onMessage,
    )
    try {
      await consumer.start(await this.pool.clientFor(topic))
    } catch (err) {
      throw subscribeError(err, filter, plan.name)
    }
    return keepConsumer(this.consumers, consumer, this.closed)
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await closeEndpoints(this.producers, this.consumers)
    await this.pool.close()
  }

  private openProducer(topic: string): BinaryProducer {
    const name = fullTopicName(toPulsarTopic(topic, this.config))
    const producer = new BinaryProducer(
      () => this.pool.clientFor(name),
      name,
      this.config.maxQueued,
      this.config.sendTimeout,
    )
    this.producers.set(topic, producer)
    producer.start().catch((err: unknown) => {
      // Forget a producer that never opened, so a later publish tries afresh.
      if (this.producers.get(topic) === producer) this.producers.delete(topic)
      this.ctx.logger.warn('pulsar producer could not open', { topic, error: String(err) })
    })
    return producer
  }
}
