import { z } from 'zod'

/** Search ids are generated hex, like run ids. */
export const searchIdParams = z.object({
  /** Search id as returned by POST /v1/capacity. */
  id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a search id: 1-64 letters, digits, - or _'),
})

const searchStatus = z.enum(['running', 'completed', 'failed', 'stopped', 'interrupted'])
const limit = z.enum(['generator', 'loss', 'broker-lag', 'latency', 'error'])
const latency = z.object({ p50: z.number(), p99: z.number(), p999: z.number() })

/** One probe: a point of the latency-vs-throughput curve (latencies in µs, rates in msg/s). */
const curvePoint = z.object({
  rate: z.number(),
  /** The probe's stored run: GET /v1/runs/{runId}. */
  runId: z.string(),
  ok: z.boolean(),
  limit: limit.nullable(),
  reasons: z.array(z.string()),
  sendRate: z.number(),
  receiveRate: z.number(),
  lost: z.number(),
  undelivered: z.number(),
  e2e: z.object({ raw: latency, co: latency.nullable() }),
  generator: z
    .object({
      limited: z.boolean(),
      finalLagP50Us: z.number(),
      finalLagP99Us: z.number(),
      eventLoopDelayP99Us: z.number(),
      inFlightPeak: z.number(),
    })
    .nullable(),
  /** CPU cores the daemon process used while the probe sent. */
  cpu: z.number().optional(),
  /** Producer threads the probe ran (`run.workers` as resolved); absent in searches stored before it was kept. */
  producerWorkers: z.number().optional(),
})

/** The answer once the search ended. */
const capacityResult = z.object({
  status: z.enum(['found', 'ceiling', 'floor-fails', 'bounded', 'error', 'stopped']),
  sustainedRate: z.number().nullable(),
  firstFailingRate: z.number().nullable(),
  failure: z.object({ rate: z.number(), limit, reasons: z.array(z.string()), runId: z.string() }).nullable(),
  /** `broker`: the path under test set the limit; `generator`: iotload did (then `lowerBound`). */
  limitedBy: z.enum(['broker', 'generator', 'ceiling']).nullable(),
  lowerBound: z.boolean(),
  precision: z.number(),
  gap: z.number().nullable(),
  bound: z.enum(['probes', 'time']).optional(),
  curve: z.array(curvePoint),
  probes: z.number(),
  elapsedS: z.number(),
  message: z.string(),
})

/** `202` of POST /v1/capacity and of stop. */
export const searchRef = z.object({ id: z.string(), status: z.string() })

const searchFields = {
  id: z.string(),
  name: z.string(),
  status: searchStatus,
  createdAt: z.number(),
  endedAt: z.number().nullable(),
  /** The search options, with the floor and ceiling it used. */
  options: z.unknown(),
  result: capacityResult.nullable(),
  error: z.string().nullable(),
}

/** `GET /v1/capacity/{id}`. */
export const searchDetail = z.object({
  ...searchFields,
  /** The scenario, secrets redacted. */
  scenario: z.unknown(),
  /** Probes so far, in the order they ran. */
  probes: z.array(curvePoint),
  /** The probe running now. */
  current: z.object({ rate: z.number(), runId: z.string() }).nullable(),
})

/** `GET /v1/capacity`. */
export const searchList = z.object({
  searches: z.array(z.object(searchFields)),
  limit: z.number(),
  offset: z.number(),
  nextOffset: z.number().nullable(),
})
