import { z } from 'zod'

/** `GET /v1/compare`: runs to compare, the first one the baseline of every ratio. */
export const compareQuery = z
  .object({
    /** Comma-separated run ids, 1 to 20 different ones, the baseline first. */
    ids: z
      .string()
      .min(1)
      .max(20 * 65)
      .transform((v) => v.split(','))
      .pipe(
        z
          .array(z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a run id: 1-64 letters, digits, - or _'))
          .min(1)
          .max(20, 'at most 20 runs')
          // Each id costs a whole report (rows, merged histograms): a repeat is only cost.
          .refine((ids) => new Set(ids).size === ids.length, 'each run at most once: a run is listed twice'),
      ),
    /** `html`: the comparison report; `json`: the comparison table's figures. @default 'html' */
    format: z.enum(['html', 'json']).default('html'),
  })
  .strict()

/** `GET /v1/runs/{id}/report`: no options yet (an unknown parameter is a 400). */
export const reportQuery = z.object({}).strict()

/** `GET /v1/runs/{id}/events`: no options (an unknown parameter is a 400). */
export const eventsQuery = z.object({}).strict()
