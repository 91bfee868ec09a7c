import { durationMsSchema, tlsSchema } from '@iotload/sdk'
import { z } from 'zod'

/** The topic exchange every publish goes to and every subscription queue is bound to. */
export const exchangeSchema = z
  .object({
    /** Exchange name; declared as type `topic`. @default 'iotload' */
    name: z.string().min(1).max(255).default('iotload'),
    /** Survives a broker restart. @default true */
    durable: z.boolean().default(true),
  })
  .strict()

/** How subscription queues are declared. */
export const queueSchema = z
  .object({
    /**
     * Queue name for subscriptions without a `group` (a durable, named queue keeps messages while
     * its consumer is away); `{role}` and `{clientId}` are filled in per connection, so a bridge's
     * input and the consumer get queues of their own (`iotload.{role}`). Server-named queues
     * (`amq.gen-…`) when absent. A subscription with a `group` uses the group name as its queue,
     * shared by all competing consumers.
     */
    name: z.string().min(1).max(255).optional(),
    /** Survives a broker restart. @default false */
    durable: z.boolean().default(false),
    /**
     * Only this connection may use the queue; it is deleted when the connection closes. Never
     * applied to group queues, which other connections must share. @default true
     */
    exclusive: z.boolean().default(true),
    /** Deleted once its last consumer is gone. @default true */
    autoDelete: z.boolean().default(true),
  })
  .strict()

/** Backoff of the session-keeping reconnect after a connection loss (not a publish retry). */
export const reconnectSchema = z
  .object({
    /** Re-open the connection, channels, topology and consumers after a loss. @default true */
    enabled: z.boolean().default(true),
    /** First delay. @default '100ms' */
    initialDelay: durationMsSchema.default(100),
    /** Upper bound of the exponential backoff. @default '5s' */
    maxDelay: durationMsSchema.default(5000),
  })
  .strict()

const URL_PATTERN = /^amqps?:\/\/[^\s]+$/

/** The scenario's `broker:` section for `plugin: amqp` (minus `plugin` and `auth`). */
export const amqpConfigSchema = z
  .object({
    /**
     * Broker URL, `amqp://host:port/vhost` or `amqps://…`; the vhost defaults to `/`. Credentials
     * belong in `broker.auth`, never in the URL. @default 'amqp://127.0.0.1:5672'
     */
    url: z
      .string()
      .regex(URL_PATTERN, 'expected amqp://host:port[/vhost] or amqps://host:port[/vhost]')
      .refine((u) => !/^amqps?:\/\/[^/@]*@/.test(u), 'put credentials in broker.auth, not in the URL')
      .default('amqp://127.0.0.1:5672'),
    exchange: exchangeSchema.default({ name: 'iotload', durable: true }),
    queue: queueSchema.default({ durable: false, exclusive: true, autoDelete: true }),
    /** Unacknowledged deliveries per consumer; only meaningful with `ack: manual`. @default 1000 */
    prefetch: z.number().int().min(0).max(65535).default(1000),
    /**
     * `auto`: the broker considers a delivery acknowledged when sent (no-ack consumer).
     * `manual`: the plugin acks each message after the callback returned. @default 'auto'
     */
    ack: z.enum(['auto', 'manual']).default('auto'),
    /** Publisher confirms: publish resolves on the broker's ack and rejects on its nack. @default true */
    confirm: z.boolean().default(true),
    /** Heartbeat interval requested from the broker; `0` disables heartbeats. @default '30s' */
    heartbeat: durationMsSchema.default(30_000),
    /** Give up connecting after this long. @default '10s' */
    connectTimeout: durationMsSchema.default(10_000),
    reconnect: reconnectSchema.default({ enabled: true, initialDelay: 100, maxDelay: 5000 }),
    tls: tlsSchema.optional(),
  })
  .strict()
  .refine((c) => c.tls === undefined || c.url.startsWith('amqps:'), {
    message: 'tls is set but the URL is amqp://; use amqps://',
    path: ['tls'],
  })

/** Parsed AMQP plugin config. */
export type AmqpConfig = z.output<typeof amqpConfigSchema>
