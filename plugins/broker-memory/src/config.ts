import { durationMsSchema, rateSchema } from '@iotload/sdk'
import { z } from 'zod'

/** The scenario's `broker:` section for `plugin: memory` (minus `plugin` and `auth`). */
export const memoryConfigSchema = z
  .object({
    /**
     * Name of the in-process bus. Connections on the same bus meet: a producer, a bridge and a
     * consumer in one process use one name; tests running side by side use different ones.
     * @default 'default'
     */
    bus: z.string().min(1).max(200).default('default'),
    /** Simulated delay from publish to delivery (and to the QoS 1 acknowledgement). @default 0 */
    latency: durationMsSchema.default(0),
    /**
     * Fraction of published messages the bus silently drops after accepting them (the publish
     * still resolves), to exercise loss accounting. Deterministic per client id. @default 0
     */
    loss: z.number().min(0).max(1).default(0),
    /** Messages a paused subscription holds back; beyond that it drops, as a broker's queue limit would. @default 100000 */
    maxQueued: z.number().int().min(1).default(100_000),
    /**
     * Messages per second the bus routes, e.g. `5000/s`: a broker with a known knee. Beyond it (after
     * a burst of a tenth of a second's worth) QoS 0 messages are dropped and QoS ≥ 1 publishes
     * rejected, as an overloaded broker sheds load. Unlimited when absent.
     */
    capacity: rateSchema.optional(),
  })
  .strict()

/** Parsed memory plugin config. */
export type MemoryConfig = z.output<typeof memoryConfigSchema>
