import { tlsSchema, tlsSchemeProblem } from '@iotload/sdk'
import { z } from 'zod'

const natsUrl = z
  .string()
  .regex(/^(nats|tls):\/\/[^\s/]+$/, 'expected nats://host:port or tls://host:port')
  .describe('NATS server URL')

/** JetStream settings, used when `mode: jetstream`. */
export const jetstreamSchema = z
  .object({
    /** Stream that stores the run's messages; created when absent. @default 'IOTLOAD' */
    stream: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/, 'stream names are letters, digits, _ and -')
      .default('IOTLOAD'),
    /**
     * Subjects the stream captures. When absent they are derived from the topics in use:
     * `devices.{device}.telemetry` adds `devices.>` the first time it is published to or subscribed.
     */
    subjects: z.array(z.string().min(1)).min(1).optional(),
    /** Create the stream (and add derived subjects) when missing. @default true */
    create: z.boolean().default(true),
    /** Where a created stream keeps messages; `file` measures persistence cost. @default 'memory' */
    storage: z.enum(['memory', 'file']).default('memory'),
    /** Prefix of the durable consumer names created per subscription. @default 'iotload' */
    durablePrefix: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/, 'consumer names are letters, digits, _ and -')
      .default('iotload'),
    /** Time to wait for a PubAck before the publish fails, in ms. @default 5000 */
    ackTimeoutMs: z.number().int().positive().default(5000),
    /** Consumer acknowledgement policy. @default 'explicit' */
    ackPolicy: z.enum(['explicit', 'none', 'all']).default('explicit'),
    /**
     * Messages a consumer asks for per pull. Larger batches keep delivery ahead of the publishers when the
     * event loop is busy (a pull costs a round trip). @default 1000
     */
    pullBatch: z.number().int().positive().default(1000),
    /**
     * Unacknowledged messages the server lets a consumer have out; with the server default (1000) a
     * busy event loop, slow to ack, throttles delivery. @default 20000
     */
    maxAckPending: z.number().int().positive().default(20_000),
    /** Seconds after which the server removes a durable consumer nobody pulls from. @default 300 */
    inactiveThresholdS: z.number().positive().default(300),
  })
  .strict()

/** Reconnect behaviour of the client library. */
export const reconnectSchema = z
  .object({
    /** Reconnect after a lost connection. @default true */
    enabled: z.boolean().default(true),
    /** Attempts per server before giving up; -1 never gives up. @default -1 */
    maxAttempts: z.number().int().min(-1).default(-1),
    /** Wait between attempts to the same server, in ms. @default 500 */
    waitMs: z.number().int().nonnegative().default(500),
  })
  .strict()

/**
 * The scenario's `broker:` section for `plugin: nats` (minus `plugin` and `auth`).
 *
 * @example
 * { url: 'nats://127.0.0.1:4222', mode: 'jetstream', jetstream: { stream: 'IOT', storage: 'file' } }
 */
export const natsConfigSchema = z
  .object({
    /** Server URL (`nats://host:port`, or `tls://host:port` to require TLS). Give this or `servers`. */
    url: natsUrl.optional(),
    /** Several servers of one cluster; the client picks and fails over. */
    servers: z.array(natsUrl).min(1).optional(),
    /** Core NATS (at-most-once) or JetStream (stored, acknowledged). @default 'core' */
    mode: z.enum(['core', 'jetstream']).default('core'),
    /** JetStream settings; only read in `jetstream` mode. */
    jetstream: jetstreamSchema.default(jetstreamSchema.parse({})),
    /** TLS settings; verification is on by default. */
    tls: tlsSchema.optional(),
    /** Time allowed for the TCP/TLS connect and NATS handshake, in ms. @default 10000 */
    connectTimeoutMs: z.number().int().positive().default(10_000),
    /** Reconnect behaviour. */
    reconnect: reconnectSchema.default(reconnectSchema.parse({})),
  })
  .strict()
  .refine((c) => (c.url === undefined) !== (c.servers === undefined), {
    message: 'give exactly one of url or servers',
    path: ['url'],
  })
  .superRefine((c, ctx) => {
    for (const url of c.servers ?? (c.url ? [c.url] : [])) {
      const problem = tlsSchemeProblem(url, c.tls, ['tls'])
      if (problem) return ctx.addIssue({ code: 'custom', path: ['tls'], message: problem })
    }
  })

/** Parsed `broker:` section of a NATS scenario. */
export type NatsConfig = z.output<typeof natsConfigSchema>

/** The configured servers, as a list. */
export function serverList(config: NatsConfig): string[] {
  return config.servers ?? [config.url!]
}
