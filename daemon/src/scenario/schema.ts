import {
  type AuthConfig,
  authSchema,
  bridgeConfigSchema,
  durationMsSchema,
  parseRatePerSecond,
  rateSchema,
} from '@iotload/sdk'
import { z } from 'zod'
import { externalMetadataSchema } from './external-metadata.ts'
import { faultScenarioKeys } from './faults-schema.ts'
import type { IdentityTable } from './identities-file.ts'
import type { RecordedPayload } from './recorded-payload.ts'
import { MAX_NAME_LENGTH } from './trust-policy.ts'

/** `broker:`: `plugin` and `auth` are the daemon's; every other key belongs to the plugin's schema. */
export const brokerSectionSchema = z.looseObject({
  /** Plugin name (`mqtt` → @iotload/broker-mqtt) or a package name. */
  plugin: z.string().min(1),
  /** Credentials, templated per device (`dev-{device}`); secrets via `${env:…}` / `${file:…}`. */
  auth: authSchema.optional(),
})

const qosSchema = z.union([z.literal(0), z.literal(1), z.literal(2)])

/** A rate that may be 0 (a stage can ramp down to silence): `5000/s`, `0/s`. */
const stageRateSchema = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const r = parseRatePerSecond(v)
  if (r === undefined || r < 0) {
    ctx.addIssue({
      code: 'custom',
      message: `expected a rate like "5000/s" or "0/s", got ${JSON.stringify(v)}`,
    })
    return z.NEVER
  }
  return r
})

/** One k6-style stage of `producer.stages`. */
export const stageSchema = z
  .object({
    /** How long the stage lasts, e.g. `30s`. */
    duration: durationMsSchema.refine((ms) => ms > 0, 'must be greater than 0'),
    /** Fleet-wide rate reached at the end of the stage, e.g. `5000/s`. */
    target: stageRateSchema,
    /** `linear`: from the previous stage's target (0 before the first); `step`: the target from the start. @default 'linear' */
    ramp: z.enum(['linear', 'step']).default('linear'),
  })
  .strict()

/** `producer.reconnectStorm`: a share of the fleet drops and reconnects at once. */
export const reconnectStormSchema = z
  .object({
    /** When, since the schedule started (warm-up included), e.g. `60s`. */
    at: durationMsSchema,
    /** Share of the producer connections dropped and reopened together, (0, 1]. */
    fraction: z.number().gt(0).max(1),
  })
  .strict()

/** `producer:`: the emulated device fleet and its open-loop schedule. */
export const producerSchema = z
  .object({
    /** Number of emulated devices. */
    devices: z.number().int().min(1).max(1e9),
    /** Index of the first device (`{device}` values are firstDevice … firstDevice+devices-1). @default 0 */
    firstDevice: z.number().int().min(0).default(0),
    /** Messages per second per device, e.g. `10/s`. Give this, `totalRate` or `stages`. */
    rate: rateSchema.optional(),
    /** Messages per second for the whole fleet, e.g. `20000/s`. */
    totalRate: rateSchema.optional(),
    /**
     * A load shape instead of one rate: fleet-wide targets, interpolated linearly within a stage
     * unless `ramp: step`. The stages cover the whole schedule, warm-up first; they set the duration.
     */
    stages: z.array(stageSchema).min(1).max(1000).optional(),
    /** Measured sending time, after warm-up, e.g. `30s` (with `stages`: their total less the warm-up). */
    duration: durationMsSchema.refine((ms) => ms > 0, 'must be greater than 0').optional(),
    /** Sending time before measuring starts; excluded from the results. @default 0 */
    warmup: durationMsSchema.default(0),
    /** Topic template per device. @default 'devices/{device}/telemetry' */
    topic: z.string().min(1).default('devices/{device}/telemetry'),
    /**
     * Payload template: an object (rendered as JSON) or a string; or recorded messages replayed,
     * `{ file: telemetry.ndjson, order: sequential | random }` (NDJSON or CSV rows, each a template).
     */
    payload: z.union([z.string(), z.record(z.string(), z.unknown())]).default({ value: '{float:0:100:2}' }),
    /** Binary mode: opaque body size in bytes (random, generated once); otherwise the rendered payload. */
    payloadSize: z.number().int().min(0).max(1e9).optional(),
    /** `json` adds an `iotload` member; `binary` prepends a fixed header. @default 'json' */
    envelope: z.enum(['json', 'binary']).default('json'),
    /** Delivery level requested from the broker. @default 0 */
    qos: qosSchema.default(0),
    /** One connection per device, or a shared pool of N connections. @default 'per-device' */
    connections: z.union([z.literal('per-device'), z.number().int().min(1)]).default('per-device'),
    /** Connections opened at once while connecting the fleet. @default 100 */
    connectConcurrency: z.number().int().min(1).max(10_000).default(100),
    /** New connections per second (a steady ramp), still at most `connectConcurrency` at once; as fast as possible when absent. */
    connectRate: rateSchema.optional(),
    /** Drop a share of the fleet's connections at once and reconnect them (a site power cut). */
    reconnectStorm: reconnectStormSchema.optional(),
    /**
     * Failed device connects the run goes on with: a count (`20`) or a share of the connections
     * (`0.5%`). Devices that could not connect send nothing; failures are reported by cause. @default 0
     */
    maxConnectFailures: z
      .union([
        z.number().int().min(0),
        z.string().regex(/^\d+(\.\d+)?%$/, 'expected a count (20) or a share of the connections ("0.5%")'),
      ])
      .optional(),
    /** Client id template. @default 'iotload-{run}-{device}' */
    clientId: z.string().min(1).default('iotload-{run}-{device}'),
    /**
     * Command round trip: each device listens on this topic (templated, `{device}`), the consumer
     * answers every message there (or on the MQTT 5 response topic the message carries), and the
     * device records the round trip as the stream `rtt`. Needs one connection per device.
     */
    replyTopic: z.string().min(1).optional(),
    /**
     * Each device's last will, published by the broker when the device's connection ends without
     * a goodbye (MQTT); topic and payload templated per device (`{device}`, `{run}`).
     */
    will: z
      .object({
        topic: z.string().min(1),
        payload: z.union([z.string(), z.record(z.string(), z.unknown())]).default(''),
        qos: qosSchema.default(0),
        retain: z.boolean().default(false),
      })
      .strict()
      .optional(),
    /**
     * Per-device identities from a CSV file (`id,username,password,clientId,cert,key`): row k is
     * device k of the fleet (or group). `wrap: true` reuses rows when there are fewer than devices.
     */
    identities: z
      .union([
        z.string().min(1),
        z.object({ file: z.string().min(1), wrap: z.boolean().default(false) }).strict(),
      ])
      .optional(),
  })
  .strict()
  .superRefine((p, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', message, path: [path] })
    if (p.stages) {
      if (p.rate !== undefined || p.totalRate !== undefined)
        issue(
          p.rate !== undefined ? 'rate' : 'totalRate',
          'stages set the rate; leave out rate and totalRate',
        )
      if (p.duration !== undefined) issue('duration', 'stages set the duration; leave it out')
      const totalMs = p.stages.reduce((t, s) => t + s.duration, 0)
      if (p.warmup >= totalMs)
        issue('warmup', `the warm-up must end before the stages do (they last ${totalMs / 1000}s)`)
    } else {
      if ((p.rate === undefined) === (p.totalRate === undefined))
        issue('rate', 'give exactly one of rate (per device), totalRate, or stages')
      if (p.duration === undefined) issue('duration', 'required (e.g. "30s")')
    }
    if (p.replyTopic !== undefined && p.connections !== 'per-device')
      issue('replyTopic', 'a command round trip needs one connection per device (connections: per-device)')
    const scheduleMs = p.stages ? p.stages.reduce((t, s) => t + s.duration, 0) : p.warmup + (p.duration ?? 0)
    if (p.reconnectStorm && p.reconnectStorm.at >= scheduleMs)
      ctx.addIssue({
        code: 'custom',
        message: `must fall within the schedule (${scheduleMs / 1000}s long)`,
        path: ['reconnectStorm', 'at'],
      })
  })
  .transform(({ duration, ...p }) => ({
    ...p,
    /** Measured time, ms: given, or the stages' total less the warm-up. */
    duration: duration ?? (p.stages ?? []).reduce((t, s) => t + s.duration, 0) - p.warmup,
  }))

/** Most groups one scenario may describe: a fleet is a handful of device kinds, not thousands. */
export const MAX_GROUPS = 100

/** Group names end up in topics and client ids (`{group}`), so they stay plain. */
const GROUP_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/

/**
 * One entry of `producers:`: a kind of device with its own count, rate or stages, topic, payload,
 * QoS, envelope and credentials. Every `producer:` field, plus `name` and `auth` (this group's
 * credentials instead of `broker.auth`). Normalised by `withFleet` (producer-groups.ts).
 */
export const producerGroupSchema = z
  .looseObject({
    /** Shown in results; `{group}` renders it in the group's topic, client id, payload and username. */
    name: z.string().regex(GROUP_NAME, 'letters, digits, "_", "-" or "." (1-64, not starting with a symbol)'),
    /** This group's credentials, templated per device; `broker.auth` when absent. */
    auth: authSchema.optional(),
  })
  .transform(({ name, auth, ...rest }, ctx) => {
    const parsed = producerSchema.safeParse(rest)
    if (!parsed.success) {
      for (const issue of parsed.error.issues)
        ctx.addIssue({ ...issue } as Parameters<typeof ctx.addIssue>[0])
      return z.NEVER
    }
    return { name, ...(auth ? { auth } : {}), config: parsed.data }
  })

/** `consumer:`: where results are measured. */
export const consumerSchema = z
  .object({
    /** Measure here. @default true */
    enabled: z.boolean().default(true),
    /** Filter to subscribe to; derived from `bridge.to` (or `producer.topic`) when absent. */
    topic: z.string().min(1).optional(),
    /** Subscription delivery level; defaults to the producer's qos. */
    qos: qosSchema.optional(),
    /** Competing-consumer group name (MQTT `$share`, Kafka group, NATS queue). */
    group: z.string().min(1).optional(),
    /** Consumer connections (share a group when more than one, unless `mode: fanout`). @default 1 */
    connections: z.number().int().min(1).max(1000).default(1),
    /**
     * `shared`: the connections compete for the messages (one group); `fanout`: every connection
     * is a subscriber of its own that receives every message, accounted on its own. @default 'shared'
     */
    mode: z.enum(['shared', 'fanout']).optional(),
    /** Client id template. @default 'iotload-{run}-consumer-{device}' */
    clientId: z.string().min(1).default('iotload-{run}-consumer-{device}'),
    /**
     * External iPaaS mode: read the origin timestamp (and optionally device and seq) from these JSON
     * paths instead of iotload's envelope. Latency then has the timestamp's resolution.
     */
    external: externalMetadataSchema.optional(),
  })
  .strict()
  .refine((c) => !c.external || c.topic !== undefined, {
    message: 'consumer.external needs consumer.topic: the topic the external iPaaS publishes to',
    path: ['topic'],
  })

/** `run:`: run-wide knobs. */
export const runOptionsSchema = z
  .object({
    /** After the last send, wait this long at most for stragglers. @default '5s' */
    drain: durationMsSchema.default(5000),
    /** Seed for payload randomness. @default 1 */
    seed: z.number().int().default(1),
    /**
     * Shortest time between two turns of the send schedule: sends due within it go out together
     * (late by up to this much, counted in send lag and the corrected latency, never in the raw
     * latency), so the generator wakes at most 2,000 times a second by default. '0' times every
     * send on its own (~0.1 ms late, more CPU at high rates); '1ms' halves the wake-ups again.
     * @default '500us'
     */
    scheduleResolution: durationMsSchema
      .refine((ms) => ms <= 100, 'must be at most 100ms (a coarser schedule would be a burst)')
      .default(0.5),
    /**
     * Worker threads the device fleet is sharded across (`auto`: one per core, or one per two cores
     * beside a broker on this machine, capped by devices); the consumer and iotload's bridge then
     * get a worker of their own. 1 runs everything on the main thread. @default 1
     */
    workers: z.union([z.literal('auto'), z.number().int().min(1).max(256)]).default(1),
    /** Generator self-checks: beyond these the result is marked `generator-limited`. */
    generator: z
      .object({
        /** p99 of (actual − intended) send time. @default '10ms' */
        maxLag: durationMsSchema.default(10),
        /** p99 event-loop delay. @default '50ms' */
        maxEventLoopDelay: durationMsSchema.default(50),
        /** Unacknowledged publishes in flight. @default 50000 */
        maxInFlight: z.number().int().min(1).default(50_000),
      })
      .strict()
      .default({ maxLag: 10, maxEventLoopDelay: 50, maxInFlight: 50_000 }),
  })
  .strict()

/** `slo:` thresholds, e.g. `e2e.p99: 10ms`, `loss: 0`; parsed further by `parseSlo`. */
export const sloSchema = z.record(z.string(), z.union([z.string(), z.number()]))

/** A whole scenario file. */
export const scenarioSchema = z
  .object({
    /** Free text shown in reports. @default 'scenario' */
    name: z.string().min(1).max(MAX_NAME_LENGTH).default('scenario'),
    broker: brokerSectionSchema,
    /** One kind of device; shorthand for `producers:` with one group. */
    producer: producerSchema.optional(),
    /** Device groups (a mixed fleet); device ids run on from group to group. */
    producers: z.array(producerGroupSchema).min(1).max(MAX_GROUPS).optional(),
    consumer: consumerSchema.default({
      enabled: true,
      connections: 1,
      clientId: 'iotload-{run}-consumer-{device}',
    }),
    bridge: bridgeConfigSchema.optional(),
    slo: sloSchema.optional(),
    run: runOptionsSchema.default({
      drain: 5000,
      seed: 1,
      scheduleResolution: 0.5,
      workers: 1,
      generator: { maxLag: 10, maxEventLoopDelay: 50, maxInFlight: 50_000 },
    }),
    ...faultScenarioKeys,
  })
  .strict()

/** What `scenarioSchema` yields, before `withFleet` settles `producer`/`producers`. */
export type ParsedScenario = z.output<typeof scenarioSchema>
export type ProducerConfig = z.output<typeof producerSchema>
export type ProducerGroupInput = z.output<typeof producerGroupSchema>

/** A group of devices as the engine runs it: ids `config.firstDevice` … +devices-1, `{group}` rendered. */
export interface ProducerGroup {
  name: string
  auth?: AuthConfig
  config: ProducerConfig
  /** `identities`, read (see identities-file.ts); set by resolveScenario. */
  identities?: IdentityTable
  /** `payload: { file, order }`, read and compiled (see recorded-payload.ts); set by resolveScenario. */
  recorded?: RecordedPayload
}

/**
 * A validated scenario (plugin config still raw under `broker`). `producer` is the whole fleet
 * (with `producers:`, a summary of the groups: see `fleetProducer`); `groups` is what runs.
 */
export type Scenario = Omit<ParsedScenario, 'producer' | 'producers'> & {
  producer: ProducerConfig
  groups: ProducerGroup[]
  /** The scenario described groups (`producers:`): results break down per group. */
  grouped: boolean
}
export type StageConfig = z.output<typeof stageSchema>
export type ConsumerConfig = z.output<typeof consumerSchema>
