import { durationMsSchema, rateSchema } from '@iotload/sdk'
import { z } from 'zod'
import { sloSchema } from '../scenario/schema.ts'

/** Most probes one search may run. */
export const MAX_PROBES_LIMIT = 50

/** `5%` or `0.05`: a share in [0.1%, 50%]. */
const precisionSchema = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const m = typeof v === 'number' ? null : /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(v)
  const share = typeof v === 'number' ? v : m ? Number(m[1]) / 100 : Number.NaN
  if (!(share >= 0.001 && share <= 0.5)) {
    ctx.addIssue({
      code: 'custom',
      message: `expected a precision from 0.1% to 50% like "5%", got ${JSON.stringify(v)}`,
    })
    return z.NEVER
  }
  return share
})

/** How a find-max search runs; the same fields for `iotload find-max` flags and `POST /v1/capacity`. */
export const capacityOptionsSchema = z
  .object({
    /** SLOs every probe must hold besides the scenario's own, e.g. `{"e2e.p99": "10ms"}`. */
    slo: sloSchema.optional(),
    /** First probe (fleet-wide). @default the scenario's rate */
    from: rateSchema.optional(),
    /** Highest probe. @default the daemon's --max-rate */
    to: rateSchema.optional(),
    /** Stop bisecting once the first failing rate is within this of the sustained one. @default '5%' */
    precision: precisionSchema.default(0.05),
    /** Measured time of each probe. @default the scenario's duration */
    probeDuration: durationMsSchema.refine((ms) => ms > 0, 'must be greater than 0').optional(),
    /** Warm-up of each probe. @default the scenario's warm-up, or 2s without one */
    warmup: durationMsSchema.optional(),
    /** Probes at most. @default 20 */
    maxProbes: z.number().int().min(1).max(MAX_PROBES_LIMIT).default(20),
    /** The whole search at most; no probe starts that would not end in time. @default '1h' */
    maxTime: durationMsSchema.refine((ms) => ms > 0, 'must be greater than 0').default(3_600_000),
    /** Send lag p50 over the last tenth of a probe beyond which the generator, not the path, fell behind. @default '50ms' */
    maxFinalLag: durationMsSchema.default(50),
  })
  .strict()

/** Parsed search options. */
export type CapacityOptions = z.output<typeof capacityOptionsSchema>

/** `POST /v1/capacity`: a scenario (as `POST /v1/runs` takes it) and the search options beside it. */
export const capacityRequestSchema = capacityOptionsSchema.extend({
  /** The scenario, validated like `POST /v1/runs`; find-max sets its rate (no `stages`). */
  scenario: z.record(z.string(), z.unknown()),
})
