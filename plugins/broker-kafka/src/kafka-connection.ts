import {
  type BrokerConnection,
  ClosedError,
  type InboundMessage,
  type OutboundMessage,
  type PluginContext,
  PublishError,
  type SubscribeOptions,
  type Subscription,
} from '@iotload/sdk'
import type { Admin, Kafka, Producer } from 'kafkajs'
import { bootstrapServers, describeBrokers, type KafkaConfig } from './config.ts'
import { toConnectionError } from './connect-error.ts'
import { Publisher } from './publisher.ts'
import { KafkaSubscriber } from './subscriber.ts'
import { ensureTopic } from './topic-admin.ts'
import { parseTopicFilter } from './topic-filter.ts'

const SOURCE = 'broker-kafka'

/** Makes a string safe inside a Kafka group id. */
function groupSafe(text: string): string {
  return text.replace(/[^a-zA-Z0-9._-]/g, '_')
}

/**
 * One kafkajs client: a producer (connected at once for producing roles, lazily otherwise), an
 * admin for topic creation, and one consumer per subscription.
 */
export class KafkaConnection implements BrokerConnection {
  private producer: Producer | undefined
  private producerReady: Promise<Publisher> | undefined
  private adminReady: Promise<Admin> | undefined
  private readonly readyTopics = new Set<string>()
  private readonly subscribers = new Set<KafkaSubscriber>()
  private closing: Promise<void> | undefined
  private readonly key: string
  private readonly where: string
  private readonly kafka: Kafka

  constructor(
    private readonly makeKafka: (closing: () => boolean) => Kafka,
    private readonly config: KafkaConfig,
    private readonly ctx: PluginContext,
    private readonly createPartitioner: NonNullable<Parameters<Kafka['producer']>[0]>['createPartitioner'],
  ) {
    this.key = bootstrapServers(config).join(',')
    this.where = describeBrokers(config)
    this.kafka = makeKafka(() => this.closing !== undefined)
  }

  /** Connects what the role needs now, so a bad password or dead broker fails `connect`. */
  async open(): Promise<void> {
    const role = this.ctx.role
    try {
      if (role === 'consumer' || role === 'bridge-in') await this.admin()
      else await this.publisher()
    } catch (err) {
      await this.close().catch(() => undefined)
      throw toConnectionError(err, this.where)
    }
  }

  publish(topic: string, msg: OutboundMessage): Promise<void> {
    if (this.closing) return Promise.reject(new ClosedError('publish after close', { source: SOURCE }))
    const ready = this.producerReady
    if (ready && this.readyTopics.has(topic)) {
      // Hot path: producer connected and topic known; the promise is already settled.
      return ready.then((p) => p.send(topic, msg))
    }
    return this.publishFirst(topic, msg)
  }

  async subscribe(
    filter: string,
    onMessage: (msg: InboundMessage) => void,
    options: SubscribeOptions = {},
  ): Promise<Subscription> {
    if (this.closing) throw new ClosedError('subscribe after close', { source: SOURCE })
    const parsed = parseTopicFilter(filter)
    if ('literal' in parsed)
      await ensureTopic(this.key, parsed.literal, () => this.admin(), this.config, this.ctx.logger)
    let stopping = false
    const kafka = this.makeKafka(() => stopping || this.closing !== undefined)
    const groupId = this.groupId(filter, options.group)
    const consumer = kafka.consumer({
      groupId,
      sessionTimeout: this.config.sessionTimeout,
      heartbeatInterval: this.config.heartbeatInterval,
      maxWaitTimeInMs: this.config.fetchMaxWait,
      allowAutoTopicCreation: true,
      // A load test's consumer must outlive any outage: restart after every crash, not only
      // after the ones kafkajs deems retriable (it gives up on a lost coordinator, for one).
      retry: { retries: this.config.retries, restartOnFailure: async () => !stopping && !this.closing },
    })
    const subscriber: KafkaSubscriber = new KafkaSubscriber({
      consumer,
      groupId,
      shared: options.group !== undefined || this.config.group === 'shared',
      admin: () => this.admin(),
      config: this.config,
      ctx: this.ctx,
      filter: parsed,
      onMessage,
      onStopping: () => {
        stopping = true
      },
      onDone: () => this.subscribers.delete(subscriber),
    })
    this.subscribers.add(subscriber)
    try {
      await subscriber.start()
    } catch (err) {
      await subscriber.unsubscribe().catch(() => undefined)
      throw toConnectionError(err, this.where)
    }
    subscriber.openDeliveries()
    return subscriber
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown()
    return this.closing
  }

  private async shutdown(): Promise<void> {
    const subs = [...this.subscribers]
    await Promise.allSettled(subs.map((s) => s.unsubscribe()))
    const publisher = await this.producerReady?.catch(() => undefined)
    await publisher?.flush().catch(() => undefined)
    await this.producer?.disconnect().catch(() => undefined)
    const admin = await this.adminReady?.catch(() => undefined)
    await admin?.disconnect().catch(() => undefined)
  }

  private async publishFirst(topic: string, msg: OutboundMessage): Promise<void> {
    let publisher: Publisher
    try {
      publisher = await this.publisher()
      await ensureTopic(this.key, topic, () => this.admin(), this.config, this.ctx.logger)
    } catch (err) {
      const text = err instanceof Error ? err.message : String(err)
      throw new PublishError(`publish to '${topic}' failed: ${text}`, { source: SOURCE, cause: err })
    }
    this.readyTopics.add(topic)
    return publisher.send(topic, msg)
  }

  private publisher(): Promise<Publisher> {
    this.producerReady ??= (async () => {
      const c = this.config
      const producer = this.kafka.producer({
        createPartitioner: this.createPartitioner,
        idempotent: c.idempotent,
        allowAutoTopicCreation: true,
        ...(c.idempotent ? { maxInFlightRequests: 1 } : {}),
      })
      this.producer = producer
      await producer.connect()
      return new Publisher(producer, {
        acks: c.acks,
        compression: c.compression,
        linger: c.linger,
        batchSize: c.batchSize,
        // kafkajs serialises an idempotent producer's requests anyway (sequence numbers).
        maxInFlight: c.idempotent ? 1 : c.maxInFlight,
      })
    })()
    return this.producerReady
  }

  private admin(): Promise<Admin> {
    this.adminReady ??= (async () => {
      const admin = this.kafka.admin()
      try {
        await admin.connect()
      } catch (err) {
        this.adminReady = undefined
        throw err
      }
      return admin
    })()
    return this.adminReady
  }

  private groupId(filter: string, group: string | undefined): string {
    if (group) return group
    if (this.config.group === 'shared')
      return this.config.groupId ?? `${this.config.clientIdPrefix}.${groupSafe(filter)}`
    // Unique per subscription, so no earlier run's committed offsets are ever picked up.
    return `${this.config.clientIdPrefix}.${groupSafe(this.ctx.clientId)}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`
  }
}
