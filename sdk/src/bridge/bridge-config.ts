import { z } from 'zod'
import { durationMsSchema } from '../config/units.ts'
import { parseJsonPath } from '../json-path.ts'

/**
 * Simulated processing time (the seed's "machine-learning step", leg 5). A bare duration is a
 * fixed delay; otherwise a distribution, sampled per message and clamped at 0.
 */
export const delaySchema = z.union([
  durationMsSchema,
  z.object({ distribution: z.literal('fixed'), value: durationMsSchema }).strict(),
  z.object({ distribution: z.literal('uniform'), min: durationMsSchema, max: durationMsSchema }).strict(),
  z.object({ distribution: z.literal('normal'), mean: durationMsSchema, stddev: durationMsSchema }).strict(),
  z.object({ distribution: z.literal('exponential'), mean: durationMsSchema }).strict(),
])

/** Every `$…` string of a `map:` template must be a JSON path the bridge can compile. */
function checkMapPaths(value: unknown, path: Array<string | number>, ctx: z.RefinementCtx): void {
  if (typeof value === 'string') {
    if (!value.startsWith('$') || value.startsWith('$$')) return
    try {
      parseJsonPath(value)
    } catch (err) {
      ctx.addIssue({ code: 'custom', path, message: (err as Error).message })
    }
  } else if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) checkMapPaths(v, [...path, i], ctx)
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) checkMapPaths(v, [...path, k], ctx)
  }
}

/**
 * How the bridge turns a telemetry message into the message it republishes. iotload's metadata
 * (the `iotload` member) is always carried over, whatever the transform returns.
 * - `passthrough`: forward the payload unchanged (plus the hop stamp).
 * - `{ map: {...} }`: build a new JSON object. String values starting with `$` are JSON paths into
 *   the incoming message (`$.device`, `$.sensor.characteristics[0].currentValue`); other values are
 *   literals, objects and arrays are mapped recursively. `{ "valve": "close", "device": "$.device" }`.
 * - `{ module: './transform.ts' }`: a JavaScript/TypeScript module whose export (default: `default`)
 *   is `(msg, ctx) => msg | null` (or a Promise of it); `msg` is the parsed JSON object without the
 *   `iotload` member; `null` drops the message, counted as `dropped`. The path resolves against the
 *   working directory.
 */
export const transformSchema = z
  .union([
    z.literal('passthrough'),
    z
      .object({ map: z.record(z.string(), z.unknown()) })
      .strict()
      .superRefine((t, ctx) => checkMapPaths(t.map, ['map'], ctx)),
    z
      .object({
        module: z.string().min(1),
        /** Named export to call. @default 'default' */
        export: z.string().min(1).default('default'),
      })
      .strict(),
  ])
  .default('passthrough')

/**
 * The scenario's `bridge:` section: consume `from`, republish to `to`. Topic templates share
 * placeholders, so `devices/{device}/telemetry` → `actions/{device}` keeps the device.
 */
export const bridgeConfigSchema = z
  .object({
    /** Topic template to consume; its placeholders become the plugin's single-level wildcard. */
    from: z.string().min(1),
    /** Topic template to publish to, filled from the captures of `from`. */
    to: z.string().min(1),
    /**
     * Broker to publish to, when it differs from the scenario's `broker` (cross-broker paths such as
     * MQTT in, NATS out). Same shape as `broker`, validated by that plugin.
     */
    broker: z.looseObject({ plugin: z.string().min(1) }).optional(),
    /** What the bridge does to each message. @default 'passthrough' */
    transform: transformSchema,
    /** Simulated processing time per message, e.g. `5ms` or `{distribution: normal, mean: 5ms, stddev: 1ms}`. */
    delay: delaySchema.optional(),
    /**
     * Messages between receipt and publish acknowledgement at once. Beyond it the bridge stops
     * taking new work: arrivals wait in a bounded queue (`maxQueued`). @default 1000
     */
    concurrency: z.number().int().min(1).max(100_000).default(1000),
    /**
     * Arrivals held while `concurrency` is exhausted. Subscriptions that can pause (MQTT, AMQP
     * with acks, Kafka) are paused meanwhile, so the backlog stays in the broker; the others keep
     * delivering, and beyond this bound messages are dropped and counted in `overflowDropped`. @default 10000
     */
    maxQueued: z.number().int().min(0).max(10_000_000).default(10_000),
    /** Host id stamped into hop records, so legs between hosts can be told apart. @default os.hostname() */
    host: z.string().min(1).optional(),
  })
  .strict()

/** Parsed `bridge:` section. */
export type BridgeConfig = z.output<typeof bridgeConfigSchema>
/** Parsed `bridge.delay`. */
export type DelayConfig = z.output<typeof delaySchema>
/** Parsed `bridge.transform`. */
export type TransformConfig = z.output<typeof transformSchema>
