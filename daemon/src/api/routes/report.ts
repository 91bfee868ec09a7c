import { compareRuns } from '../../report/comparison.ts'
import { renderReport, reportResponsePolicy } from '../../report/html/render.ts'
import { reportRunFromStore } from '../../report/report-model.ts'
import { ServiceError } from '../../service/errors.ts'
import type { RunManager } from '../../service/run-manager.ts'
import type { Context } from 'hono'
import { parseWith } from '../errors.ts'
import type { Register } from '../openapi.ts'
import { compareQuery, reportQuery } from '../report-schemas.ts'
import { errorResponse, runIdParams } from '../schemas.ts'

const err = (description: string) => ({ description, schema: errorResponse })

/** A report page: sandboxed by header too (nosniff is set for every response by the app). */
function reportPage(c: Context, html: string) {
  c.header('Content-Security-Policy', reportResponsePolicy())
  return c.html(html)
}

function runOrNotFound(manager: RunManager, id: string) {
  const run = reportRunFromStore(manager.store, id)
  if (!run) throw new ServiceError('not-found', 'RUN_NOT_FOUND', `no run with id '${id}'`)
  return run
}

/** The HTML report of a run, and the comparison of several (HTML or JSON). */
export function reportRoutes(register: Register, manager: RunManager): void {
  register(
    {
      method: 'get',
      path: '/v1/runs/{id}/report',
      summary: 'The HTML report of a run: one self-contained file, no network requests',
      description:
        'Environment, redacted scenario, summary and SLO tables, latency over time (raw and co), the percentile spectrum, throughput, loss, legs, generator health and connections, with uPlot and its data inlined (a Content-Security-Policy forbids every request). While the run executes: what is stored so far.',
      params: runIdParams,
      query: reportQuery,
      responses: {
        200: { description: 'the report', contentType: 'text/html' },
        400: err('invalid id or an unknown parameter'),
        404: err('no run with this id'),
      },
    },
    (c) => {
      const { id } = parseWith(runIdParams, c.req.param(), 'params')
      parseWith(reportQuery, c.req.query(), 'query')
      return reportPage(c, renderReport([runOrNotFound(manager, id)]))
    },
  )

  register(
    {
      method: 'get',
      path: '/v1/compare',
      summary: 'Runs side by side: an HTML comparison, or its table as JSON',
      description:
        'ids=A,B,C: up to 20 different runs, the first the baseline of every ratio. html: the runs overlaid one colour each (spectra, p99 and throughput over time) and a table of e2e p50/p99/p99.9/max raw and co, rate and loss with each ratio to the first; json: that table.',
      query: compareQuery,
      responses: {
        200: {
          description: 'the comparison (text/html, or JSON with format=json)',
          contentType: 'text/html',
        },
        400: err('invalid, repeated or too many ids, or an unknown parameter'),
        404: err('one of the ids names no run'),
      },
    },
    (c) => {
      const q = parseWith(compareQuery, c.req.query(), 'query')
      const runs = q.ids.map((id) => runOrNotFound(manager, id))
      if (q.format === 'json') return c.json(compareRuns(runs))
      return reportPage(c, renderReport(runs))
    },
  )
}
