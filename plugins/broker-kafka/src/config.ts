import { durationMsSchema, tlsSchema, tlsSchemeProblem } from '@iotload/sdk'
import { z } from 'zod'

const hostPort = /^[^\s/,:]+:\d{1,5}$/

/**
 * The scenario's `broker:` section for `plugin: kafka` (minus `plugin` and `auth`).
 *
 * Bootstrap servers come either as `url: kafka://host:9092[,host2:9092]` (like every other plugin;
 * `kafka+ssl://` turns TLS on with system CAs) or as `brokers: [host:9092, …]`; exactly one of the two.
 * Credentials from `broker.auth` go to SASL (`sasl.mechanism`, PLAIN by default).
 */
export const kafkaConfigSchema = z
  .object({
    /** `kafka://host:port[,host:port…]`, or `kafka+ssl://…` for TLS. */
    url: z
      .string()
      .regex(
        /^kafka(\+ssl)?:\/\/[^\s/,:]+:\d{1,5}(,[^\s/,:]+:\d{1,5})*\/?$/,
        'expected kafka://host:port[,host:port…] or kafka+ssl://…',
      )
      .optional(),
    /** Bootstrap servers as `host:port`; alternative to `url`. */
    brokers: z.array(z.string().regex(hostPort, 'expected host:port')).min(1).optional(),
    /**
     * Dial another address than the one a broker advertises: `{ 'kafka-0:9092': '127.0.0.1:19092' }`
     * for port forwards and NAT. TLS still checks the advertised host name.
     */
    addressMap: z
      .record(
        z.string().regex(hostPort, 'expected host:port'),
        z.string().regex(hostPort, 'expected host:port'),
      )
      .optional(),
    /** Prefix of the Kafka client id; the daemon's per-connection id is appended. @default 'iotload' */
    clientIdPrefix: z.string().min(1).default('iotload'),

    /** Create topics that do not exist (through the admin API) before the first publish or subscribe. @default true */
    createTopics: z.boolean().default(true),
    /** Partitions of topics the plugin creates; the seed's one-topic test uses one per consumer. @default 1 */
    partitions: z.number().int().min(1).default(1),
    /** Replication factor of topics the plugin creates. @default 1 */
    replicationFactor: z.number().int().min(1).default(1),

    /** Producer acknowledgement: 0 none, 1 leader, `all`/-1 every in-sync replica. @default 'all' */
    acks: z
      .union([z.literal(0), z.literal(1), z.literal(-1), z.literal('all')])
      .default('all')
      .transform((a) => (a === 'all' ? -1 : a)),
    /** Idempotent producer (needs `acks: all`). @default false */
    idempotent: z.boolean().default(false),
    /**
     * Batch window per connection: an idle connection holds a message up to this long so more can
     * join its request (kafkajs itself has no linger). With 0 it is sent at once; messages published
     * while a request is in flight always gather into the next one, which keeps per-device order. @default 0
     */
    linger: durationMsSchema.default(0),
    /**
     * Most messages in one produce request (a request also stays under ~900 kB); a held batch
     * this big is sent at once. With one request in flight, a connection carries at most this many
     * records per round trip: 1000 capped the seed's bridge at 1000 per produce round trip, which
     * under load (100+ ms) was below its 10k msg/s. @default 10000
     */
    batchSize: z.number().int().min(1).default(10_000),
    /**
     * Produce requests in flight per connection. Keys are spread over this many lanes with one
     * request each, so a device's records stay in order while different devices overlap (Java's
     * max.in.flight.requests.per.connection). More lanes mean smaller, more numerous requests:
     * on the 2-core test box 5 lanes made the 500-device bridge example slower than 1, because
     * the broker was request-bound. An idempotent producer always uses 1. @default 1
     */
    maxInFlight: z.number().int().min(1).max(100).default(1),
    /** Record-batch compression; kafkajs ships only gzip without extra codecs. @default 'none' */
    compression: z.enum(['none', 'gzip']).default('none'),

    /**
     * Consumer group when the daemon passes none: `perConsumer` gives each subscription its own
     * group (every consumer sees every message), `shared` puts all in one group that splits the
     * partitions (the seed's "100 consumers in one group"). @default 'perConsumer'
     */
    group: z.enum(['perConsumer', 'shared']).default('perConsumer'),
    /** Group id for `group: shared`. @default '<clientIdPrefix>.<filter>' */
    groupId: z.string().min(1).optional(),
    /** Start at the oldest retained message instead of where the subscription begins. @default false */
    fromBeginning: z.boolean().default(false),
    /** Consumer group session timeout. @default '30s' */
    sessionTimeout: durationMsSchema.default(30_000),
    /** Consumer group heartbeat interval. @default '3s' */
    heartbeatInterval: durationMsSchema.default(3000),
    /** Longest a fetch waits on an idle partition; new messages end it at once. @default '500ms' */
    fetchMaxWait: durationMsSchema.default(500),
    /** How often a wildcard subscription looks for new matching topics. @default '2s' */
    topicRefresh: durationMsSchema.default(2000),

    /** TCP connect timeout per attempt. @default '3s' */
    connectTimeout: durationMsSchema.default(3000),
    /**
     * kafkajs request timeout. Shorter than Kafka's 30 s because a produce request lost in a
     * connection drop holds up the requests queued behind it until it times out. @default '10s'
     */
    requestTimeout: durationMsSchema.default(10_000),
    /** kafkajs retries of a failed request or connect (the library's own; the plugin adds none). @default 3 */
    retries: z.number().int().min(0).default(3),

    /** SASL mechanism used when `broker.auth` gives credentials. */
    sasl: z
      .object({
        /** `oauthbearer` sends `auth.token`; the others `auth.username`/`auth.password`. @default 'plain' */
        mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512', 'oauthbearer']).default('plain'),
      })
      .strict()
      .optional(),
    tls: tlsSchema.optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if ((c.url === undefined) === (c.brokers === undefined))
      ctx.addIssue({ code: 'custom', path: ['url'], message: 'give exactly one of url or brokers' })
    const problem = tlsSchemeProblem(c.url, c.tls, ['kafka+ssl'])
    if (problem) ctx.addIssue({ code: 'custom', path: ['tls'], message: problem })
    if (c.idempotent && c.acks !== -1)
      ctx.addIssue({
        code: 'custom',
        path: ['idempotent'],
        message: 'an idempotent producer needs acks: all',
      })
  })

/** Parsed Kafka plugin config. */
export type KafkaConfig = z.output<typeof kafkaConfigSchema>

/** The bootstrap `host:port` list, from `brokers` or `url`. */
export function bootstrapServers(config: KafkaConfig): string[] {
  if (config.brokers) return config.brokers
  return (config.url ?? '')
    .replace(/^kafka(\+ssl)?:\/\//, '')
    .replace(/\/$/, '')
    .split(',')
}

/**
 * Where the client really dials, for `brokerHosts`: each bootstrap server through `addressMap`, and
 * every address the map sends advertised brokers to.
 */
export function dialledServers(config: KafkaConfig): string[] {
  const map = config.addressMap ?? {}
  return [...new Set([...bootstrapServers(config).map((s) => map[s] ?? s), ...Object.values(map)])]
}

/** Whether TLS is on: a `tls` section or a `kafka+ssl://` URL. */
export function usesTls(config: KafkaConfig): boolean {
  return config.tls !== undefined || (config.url?.startsWith('kafka+ssl://') ?? false)
}

/** Where the broker is, for error messages (never carries credentials). */
export function describeBrokers(config: KafkaConfig): string {
  return config.url ?? `kafka://${bootstrapServers(config).join(',')}`
}
