import { durationMsSchema, tlsSchema, tlsSchemeProblem } from '@iotload/sdk'
import { z } from 'zod'

/** Pulsar subscription types, as the WebSocket API spells them. */
export const subscriptionTypes = ['Exclusive', 'Shared', 'Key_Shared', 'Failover'] as const

/** A Pulsar subscription type. */
export type SubscriptionType = (typeof subscriptionTypes)[number]

const nameSegment = z
  .string()
  .regex(/^[A-Za-z0-9_.=:-]+$/, 'expected a Pulsar name: letters, digits, _ . = : -')

/** The scenario's `broker:` section for `plugin: pulsar` (minus `plugin` and `auth`). */
export const pulsarConfigSchema = z
  .object({
    /**
     * Where the broker listens: the WebSocket service (ws://, wss://) of a broker or WebSocket proxy,
     * or the binary protocol (pulsar://, pulsar+ssl://) of a standalone broker or a Pulsar proxy.
     * @default 'ws://127.0.0.1:8080'
     */
    url: z
      .string()
      .regex(
        /^(wss?|pulsar(\+ssl)?):\/\/[^\s/?#]+\/?$/,
        'expected ws://host:port, wss://host:port, pulsar://host:port or pulsar+ssl://host:port (no path)',
      )
      .default('ws://127.0.0.1:8080'),
    /** @default 'public' */
    tenant: nameSegment.default('public'),
    /** @default 'default' */
    namespace: nameSegment.default('default'),
    /** Persistent topics (stored in BookKeeper) or non-persistent (in-memory, dropped without a consumer). @default true */
    persistent: z.boolean().default(true),
    /**
     * Replaces '/' in iotload topics: Pulsar topic names cannot contain '/' beyond tenant and
     * namespace, so `devices/7/telemetry` becomes `devices.7.telemetry`. @default '.'
     */
    slashReplacement: z
      .string()
      .regex(/^[A-Za-z0-9_.=:-]+$/, 'expected characters allowed in a Pulsar topic name')
      .default('.'),
    /**
     * Subscription name for subscribers without a group. Without it every connection gets its own
     * non-durable subscription (`iotload-<clientId>`), i.e. plain fan-out that leaves nothing behind.
     */
    subscription: nameSegment.optional(),
    /** Type of subscriptions opened without a group. @default 'Exclusive' */
    subscriptionType: z.enum(subscriptionTypes).default('Exclusive'),
    /** Type of group subscriptions (competing consumers); Key_Shared keeps each key (device) in order. @default 'Key_Shared' */
    groupSubscriptionType: z.enum(subscriptionTypes).default('Key_Shared'),
    /**
     * Durable subscriptions keep a cursor (and a backlog) after the consumer leaves. Defaults to
     * NonDurable for generated names and Durable for named or group subscriptions.
     */
    subscriptionMode: z.enum(['Durable', 'NonDurable']).optional(),
    /** Where a new subscription starts. @default 'Latest' */
    initialPosition: z.enum(['Latest', 'Earliest']).default('Latest'),
    /** Messages the WebSocket service pushes ahead of acks (its flow-control window). @default 1000 */
    receiverQueueSize: z.number().int().min(1).max(1_000_000).default(1000),
    /**
     * When a received message is acked: after the handler returned (a throwing handler gets a
     * negative ack and a redelivery) or before it runs. @default 'after-handler'
     */
    ackMode: z.enum(['after-handler', 'before-handler']).default('after-handler'),
    /** Delay before the broker redelivers a negatively acked message. @default '1s' */
    nackRedeliveryDelay: durationMsSchema.default(1000),
    /** Producer-side batching inside the WebSocket service. @default false */
    batching: z.boolean().default(false),
    /**
     * How long a publish waits for the broker's receipt before it fails (inside the WebSocket
     * service; over pulsar:// in iotload, to about a second). @default '30s'
     */
    sendTimeout: durationMsSchema.default(30_000),
    /** Publishes queued on a producer while its socket (re)opens; more are rejected. @default 10000 */
    maxQueued: z.number().int().min(1).default(10_000),
    /** How the `auth.token` credential travels: Authorization header or `token` query parameter. @default 'header' */
    authIn: z.enum(['header', 'query']).default('header'),
    /** Open (and close) a probe socket in `connect`, so bad URLs and credentials fail early. @default true */
    probe: z.boolean().default(true),
    /** Handshake timeout of each WebSocket. @default '10s' */
    connectTimeout: durationMsSchema.default(10_000),
    /** First delay before reopening a dropped socket; doubles up to 10x. @default '500ms' */
    reconnectPeriod: durationMsSchema.default(500),
    /**
     * pulsar:// only: where producers and consumers connect. `lookup` (what Pulsar clients do): to
     * the broker the topic lookup names, through the Pulsar proxy at `url` when it says so. `url`:
     * always to `url`, for a single broker behind NAT or a TCP proxy whose advertised address
     * this machine cannot reach. @default 'lookup'
     */
    connectVia: z.enum(['lookup', 'url']).default('lookup'),
    tls: tlsSchema.optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    const problem = tlsSchemeProblem(c.url, c.tls, ['wss', 'pulsar+ssl'])
    if (problem) ctx.addIssue({ code: 'custom', path: ['tls'], message: problem })
    if (!isBinaryUrl(c.url)) return
    // Options of the WebSocket service that the binary transport has no equivalent for.
    if (c.batching)
      ctx.addIssue({
        code: 'custom',
        path: ['batching'],
        message: 'batching is done by the WebSocket service; over pulsar:// each message is sent on its own',
      })
    if (c.authIn === 'query')
      ctx.addIssue({
        code: 'custom',
        path: ['authIn'],
        message:
          'authIn: query is for WebSocket proxies; over pulsar:// the token travels in the CONNECT command',
      })
  })

/** Parsed Pulsar plugin config. */
export type PulsarConfig = z.output<typeof pulsarConfigSchema>

/** True for the binary protocol's schemes (pulsar://, pulsar+ssl://). */
export function isBinaryUrl(url: string): boolean {
  return url.startsWith('pulsar://') || url.startsWith('pulsar+ssl://')
}
