import { z } from 'zod'

/** Run ids are generated hex; anything outside this shape cannot name a run. */
export const runIdParams = z.object({
  /** Run id as returned by POST /v1/runs. */
  id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a run id: 1-64 letters, digits, - or _'),
})

/** `GET /v1/runs` paging. */
export const listRunsQuery = z.strictObject({
  /** Runs per page. @default 50 */
  limit: z.coerce.number().int().min(1).max(500).default(50),
  /** Runs to skip (newest first). @default 0 */
  offset: z.coerce.number().int().min(0).max(1_000_000_000).default(0),
})

/** A second of a run (0-based, since the schedule started), as a query parameter. */
const second = z
  .string()
  .regex(/^\d{1,9}$/, 'expected a whole number of seconds since the run started (0, 1, 2, …)')
  .transform(Number)

/** `GET /v1/runs/{id}/series` filters. */
export const seriesQuery = z
  .object({
    /** e2e, publish-ack, producer-bridge, bridge, bridge-consumer; all streams when absent. */
    stream: z.string().min(1).max(64).optional(),
    /** First second (0-based, inclusive). */
    from: second.optional(),
    /** Last second (inclusive). */
    to: second.optional(),
    /** Include each row's encoded HdrHistograms (base64). @default false */
    histograms: z.enum(['true', 'false']).default('false'),
    /** `json` rows, or `csv` (text/csv, latency columns in µs named with their unit). @default 'json' */
    format: z.enum(['json', 'csv']).default('json'),
  })
  .strict()

/** `GET /v1/runs/{id}/percentiles` and `/histogram` selection. */
export const percentilesQuery = z
  .object({
    /** A stream the run recorded: e2e, publish-ack, producer-bridge, bridge, bridge-consumer. @default 'e2e' */
    stream: z.string().min(1).max(64).default('e2e'),
    /** `raw` from the actual send time, `co` from the intended one. @default 'raw' */
    kind: z.enum(['raw', 'co']).default('raw'),
    /** First measured second to include (0-based, since the schedule started); the whole run when absent. */
    from: second.optional(),
    /** Last second to include (inclusive). */
    to: second.optional(),
    /** `json`: the spectrum; `hgrm`: HdrHistogram's percentile distribution text (µs), for its plotter. @default 'json' */
    format: z.enum(['json', 'hgrm']).default('json'),
  })
  .strict()
  .refine((q) => q.from === undefined || q.to === undefined || q.from <= q.to, {
    message: 'from must not be after to',
    path: ['from'],
  })

/** `GET /v1/runs/{id}/histogram` selection: the merged histogram itself. */
export const histogramQuery = z
  .object({
    /** @default 'e2e' */
    stream: z.string().min(1).max(64).default('e2e'),
    /** @default 'raw' */
    kind: z.enum(['raw', 'co']).default('raw'),
    from: second.optional(),
    to: second.optional(),
    /** `hgrm`: percentile distribution text; `base64`: HdrHistogram's compressed V2 encoding. @default 'hgrm' */
    format: z.enum(['hgrm', 'base64']).default('hgrm'),
  })
  .strict()

/** `POST /v1/plugins` body. */
export const installPluginBody = z
  .object({
    /** `kafka`, `@iotload/broker-kafka`, `@iotload/broker-kafka@0.2.0`, or an allowlisted package. */
    name: z.string().min(1).max(256),
  })
  .strict()

/** Every error response. */
export const errorResponse = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    /** Dotted path of the offending field, for validation errors. */
    path: z.string().optional(),
    issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  }),
})

const runStatus = z.enum([
  'pending',
  'connecting',
  'running',
  'draining',
  'completed',
  'failed',
  'stopped',
  'interrupted',
])

/** `201` of POST /v1/runs. */
export const runRef = z.object({ id: z.string(), status: runStatus })

/** `202` of POST /v1/runs/{id}/stop. */
export const stopResponse = z.object({ id: z.string(), status: z.literal('stopping') })

const runFields = {
  id: z.string(),
  name: z.string(),
  status: runStatus,
  /** ms since the Unix epoch. */
  createdAt: z.number(),
  startedAt: z.number().nullable(),
  endedAt: z.number().nullable(),
  error: z.string().nullable(),
}

/** `GET /v1/runs`. */
export const runList = z.object({
  runs: z.array(z.object(runFields)),
  limit: z.number(),
  offset: z.number(),
  /** Offset of the next page, null on the last one. */
  nextOffset: z.number().nullable(),
})

/** `GET /v1/runs/{id}`. */
export const runDetail = z.object({
  ...runFields,
  /** The scenario as submitted, secrets redacted (`[redacted]` or their `${env:…}` reference). */
  scenario: z.unknown(),
  /** Counters while the run executes. */
  live: z
    .object({
      second: z.number(),
      sent: z.number(),
      received: z.number(),
      gaps: z.number(),
      invalid: z.number(),
      /** A stop was asked for; the run finishes its second and drains. */
      stopping: z.boolean(),
      /** Seconds since the schedule started (warm-up included); 0 while connecting. */
      elapsedS: z.number().nullable(),
      /** Schedule seconds left; null while connecting. */
      remainingS: z.number().nullable(),
      /** Fleet-wide target, messages per second. */
      targetRate: z.number().nullable(),
      /** The last completed second (µs). */
      lastSecond: z
        .object({
          second: z.number(),
          warmup: z.boolean(),
          sent: z.number(),
          received: z.number(),
          p50Us: z.number().nullable(),
          p99Us: z.number().nullable(),
        })
        .nullable(),
      /** The fleet's connect phase: opened / target, failures by cause, rate, elapsed, estimated remaining. */
      connect: z
        .object({
          target: z.number(),
          opened: z.number(),
          failed: z.number(),
          failuresByCause: z.record(z.string(), z.number()),
          elapsedS: z.number(),
          ratePerS: z.number(),
          remainingS: z.number().nullable(),
          done: z.boolean(),
        })
        .nullable(),
    })
    .nullable(),
  /** The RunSummary (same shape as `iotload run --json`) once the run ended. */
  summary: z.unknown().nullable(),
})

const latencyRow = z.object({
  count: z.number(),
  p50: z.number(),
  p90: z.number(),
  p99: z.number(),
  p999: z.number(),
  max: z.number(),
})

/** `GET /v1/runs/{id}/series`. Latencies in µs. */
export const seriesResponse = z.object({
  id: z.string(),
  rows: z.array(
    z.object({
      stream: z.string(),
      second: z.number(),
      warmup: z.boolean(),
      sent: z.number().nullable(),
      received: z.number().nullable(),
      invalid: z.number().nullable(),
      duplicates: z.number().nullable(),
      reordered: z.number().nullable(),
      publishErrors: z.number().nullable(),
      gaps: z.number().nullable(),
      /** Sends the schedule planned in this second (e2e rows), to read against `sent`. */
      targetRate: z.number().nullable(),
      raw: latencyRow,
      co: latencyRow.nullable(),
      rawHist: z.string().optional(),
      coHist: z.string().nullable().optional(),
      /** Connection events in the second (e2e row). */
      disconnects: z.number().nullable().optional(),
      reconnects: z.number().nullable().optional(),
      /** The load generator in the second (e2e row; µs): send lag, event-loop delay, publishes in flight. */
      generator: z
        .object({
          lagP99Us: z.number().nullable(),
          lagMaxUs: z.number().nullable(),
          eventLoopDelayP99Us: z.number().nullable(),
          eventLoopDelayMaxUs: z.number().nullable(),
          inFlightPeak: z.number().nullable(),
        })
        .nullable()
        .optional(),
    }),
  ),
})

/** `GET /v1/runs/{id}/percentiles`. Values in µs. */
export const percentilesResponse = z.object({
  id: z.string(),
  stream: z.string(),
  kind: z.enum(['raw', 'co']),
  source: z.enum(['summary', 'series']),
  count: z.number(),
  points: z.array(z.object({ percentile: z.number(), value: z.number() })),
})

/** `GET /v1/plugins`. */
export const pluginList = z.object({
  plugins: z.array(
    z.object({
      name: z.string(),
      package: z.string(),
      version: z.string(),
      /** `plugin-dir`: installed into IOTLOAD_PLUGIN_DIR; `bundled`: shipped beside the daemon. */
      source: z.enum(['plugin-dir', 'bundled']).optional(),
      capabilities: z.record(z.string(), z.boolean()).optional(),
      /** JSON Schema of the plugin's `broker:` section (minus `plugin` and `auth`). */
      configSchema: z.unknown().optional(),
      /** Why the plugin could not be loaded. */
      error: z.string().optional(),
    }),
  ),
})

/** `201` of POST /v1/plugins. */
export const installResponse = z.object({
  package: z.string(),
  requested: z.string(),
  npm: z.string(),
  /** The package as the daemon now sees it, when it loads. */
  plugin: z.unknown().nullable(),
})

/** `GET /healthz`. */
export const healthResponse = z.object({ status: z.literal('ok'), activeRuns: z.number() })
