import { ConfigError } from '@iotload/sdk'
import { encodeHistogram } from '../../engine/histogram.ts'
import { seriesCsv } from '../../report/series-csv.ts'
import { ServiceError } from '../../service/errors.ts'
import {
  percentileDistributionText,
  runHistogramYielding,
  spectrumOf,
  streamProblem,
} from '../../service/percentiles.ts'
import type { RunManager } from '../../service/run-manager.ts'
import { parseWith } from '../errors.ts'
import type { Register } from '../openapi.ts'
import {
  errorResponse,
  histogramQuery,
  percentilesQuery,
  percentilesResponse,
  runIdParams,
  seriesQuery,
  seriesResponse,
} from '../schemas.ts'

function checkStream(stream: string, kind: 'raw' | 'co'): void {
  const problem = streamProblem(stream, kind)
  if (problem) throw new ConfigError(`query.${problem.path}`, problem.message)
}

const err = (description: string) => ({ description, schema: errorResponse })
const E400 = err('invalid path, query or body: `{error: {code, message, path}}`')
const E404 = err('no run with this id')

/** A run's recorded results: per-second series (JSON or CSV), percentile spectrum, merged histogram. */
export function runResultRoutes(register: Register, manager: RunManager): void {
  register(
    {
      method: 'get',
      path: '/v1/runs/{id}/series',
      summary: 'Per-second rows (latencies in µs), as JSON or CSV',
      description:
        'format=csv answers text/csv, one row per stream and second, latency columns named with their unit (raw_p99_us); histograms are not in the CSV.',
      params: runIdParams,
      query: seriesQuery,
      responses: {
        200: {
          description: 'rows by stream, then second (text/csv with format=csv)',
          schema: seriesResponse,
        },
        400: E400,
        404: E404,
      },
    },
    (c) => {
      const { id } = parseWith(runIdParams, c.req.param(), 'params')
      const q = parseWith(seriesQuery, c.req.query(), 'query')
      manager.get(id)
      const rows = manager.store.getSeries(id, {
        ...(q.stream !== undefined ? { stream: q.stream } : {}),
        ...(q.from !== undefined ? { from: q.from } : {}),
        ...(q.to !== undefined ? { to: q.to } : {}),
      })
      if (q.format === 'csv') {
        c.header('Content-Type', 'text/csv; charset=utf-8')
        return c.body(seriesCsv(rows))
      }
      const withHist = q.histograms === 'true'
      return c.json({ id, rows: withHist ? rows : rows.map(({ rawHist: _r, coHist: _c, ...row }) => row) })
    },
  )

  register(
    {
      method: 'get',
      path: '/v1/runs/{id}/percentiles',
      summary: 'Full percentile spectrum of a stream (µs), over the whole run or a range of seconds',
      description:
        "Without from/to: from the stored cumulative histogram of a finished run, or the measured per-second histograms merged exactly while it runs or when it was interrupted. With from/to (seconds since the schedule started, inclusive): those seconds merged exactly. format=hgrm answers HdrHistogram's percentile distribution text.",
      params: runIdParams,
      query: percentilesQuery,
      responses: {
        200: { description: 'spectrum (or text/plain with format=hgrm)', schema: percentilesResponse },
        400: E400,
        404: E404,
      },
    },
    async (c) => {
      const { id } = parseWith(runIdParams, c.req.param(), 'params')
      const q = parseWith(percentilesQuery, c.req.query(), 'query')
      checkStream(q.stream, q.kind)
      manager.get(id)
      const merged = await runHistogramYielding(manager.store, id, q.stream, q.kind, {
        from: q.from,
        to: q.to,
      })
      if (q.format === 'hgrm')
        return c.text(merged ? percentileDistributionText(merged.histogram, merged.maxUs) : '', 200)
      const spectrum = (merged && spectrumOf(q.stream, q.kind, merged)) ?? {
        stream: q.stream,
        kind: q.kind,
        source: 'series' as const,
        count: 0,
        points: [],
      }
      return c.json({
        id,
        ...spectrum,
        ...(q.from !== undefined ? { from: q.from } : {}),
        ...(q.to !== undefined ? { to: q.to } : {}),
      })
    },
  )

  register(
    {
      method: 'get',
      path: '/v1/runs/{id}/histogram',
      summary: "A stream's HdrHistogram, merged exactly over the run or a range of seconds",
      description:
        "format=hgrm: the percentile distribution text HdrHistogram's plotter loads (values in µs); format=base64: the compressed V2 encoding, to merge elsewhere.",
      params: runIdParams,
      query: histogramQuery,
      responses: {
        200: { description: 'the histogram', contentType: 'text/plain' },
        400: E400,
        404: err('no run with this id, or no data for this stream'),
      },
    },
    async (c) => {
      const { id } = parseWith(runIdParams, c.req.param(), 'params')
      const q = parseWith(histogramQuery, c.req.query(), 'query')
      checkStream(q.stream, q.kind)
      manager.get(id)
      const merged = await runHistogramYielding(manager.store, id, q.stream, q.kind, {
        from: q.from,
        to: q.to,
      })
      if (!merged)
        throw new ServiceError(
          'not-found',
          'NO_DATA',
          `run ${id} recorded no ${q.kind} ${q.stream} values there`,
        )
      return c.text(
        q.format === 'hgrm'
          ? percentileDistributionText(merged.histogram, merged.maxUs)
          : encodeHistogram(merged.histogram),
        200,
      )
    },
  )
}
