import { CapacityManager, capacityStoreFor } from '../../capacity/capacity-manager.ts'
import { capacityRequestSchema, MAX_PROBES_LIMIT } from '../../capacity/options.ts'
import type { Logger } from '../../log/logger.ts'
import type { RunManager } from '../../service/run-manager.ts'
import { readBody } from '../body.ts'
import { searchDetail, searchIdParams, searchList, searchRef } from '../capacity-schemas.ts'
import { parseWith } from '../errors.ts'
import type { Register } from '../openapi.ts'
import { errorResponse, listRunsQuery } from '../schemas.ts'

const err = (description: string) => ({ description, schema: errorResponse })
const E400 = err('invalid path, query or body: `{error: {code, message, path}}`')
const E404 = err('no search with this id')

function startDescription(manager: RunManager): string {
  const hours = manager.policy.limits.maxRunTimeMs / 3_600_000
  return [
    'Starts a find-max search: the highest rate the path sustains (no loss, send and receive rates ≥ 97% of target, the generator keeping its schedule at the end, the SLOs holding), found by doubling from `from` (default: the scenario’s rate) and bisecting to `precision`.',
    'The body is `{scenario, ...options}` as JSON or YAML. The scenario is validated exactly like POST /v1/runs (same policy, limits and secrets rules); one with `stages` is refused (find-max sets the rate).',
    `Bounds: at most ${MAX_PROBES_LIMIT} probes (maxProbes, default 20), maxTime (default 1h, at most --max-run-time: ${hours} h), no probe above --max-rate. A search holds one --max-runs slot while it runs (429 when none is free); each probe is a stored run (GET /v1/runs/{id}), linked from the search.`,
  ].join(' ')
}

/** find-max over REST: start a search, follow it, list searches, stop one. */
export function capacityRoutes(register: Register, manager: RunManager, logger: Logger): void {
  const capacity = new CapacityManager(manager, capacityStoreFor(manager.store), logger)

  register(
    {
      method: 'post',
      path: '/v1/capacity',
      summary: 'Start a find-max search',
      description: startDescription(manager),
      body: { schema: capacityRequestSchema, yaml: true },
      responses: {
        202: { description: 'started; poll GET /v1/capacity/{id}', schema: searchRef },
        400: E400,
        413: err('body larger than the limit'),
        415: err('unsupported Content-Type'),
        429: err('the concurrency limit (--max-runs) is reached'),
        503: err('the daemon is shutting down'),
      },
    },
    async (c) => {
      const body = parseWith(capacityRequestSchema, await readBody(c, { yaml: true }), '')
      const { scenario, ...options } = body
      const ref = await capacity.start(scenario, options)
      c.header('Location', `/v1/capacity/${ref.id}`)
      return c.json(ref, 202)
    },
  )

  register(
    {
      method: 'get',
      path: '/v1/capacity',
      summary: 'List find-max searches, newest first',
      query: listRunsQuery,
      responses: { 200: { description: 'one page', schema: searchList }, 400: E400 },
    },
    (c) => {
      const q = parseWith(listRunsQuery, c.req.query(), 'query')
      const page = capacity.list(q.limit + 1, q.offset)
      return c.json({
        searches: page.slice(0, q.limit),
        limit: q.limit,
        offset: q.offset,
        nextOffset: page.length > q.limit ? q.offset + q.limit : null,
      })
    },
  )

  register(
    {
      method: 'get',
      path: '/v1/capacity/{id}',
      summary: 'A search: its probes so far (the curve), the probe running now, and the result once it ended',
      params: searchIdParams,
      responses: { 200: { description: 'the search', schema: searchDetail }, 400: E400, 404: E404 },
    },
    (c) => {
      const { id } = parseWith(searchIdParams, c.req.param(), 'params')
      return c.json(capacity.get(id))
    },
  )

  register(
    {
      method: 'post',
      path: '/v1/capacity/{id}/stop',
      summary: 'Stop a search; its current probe ends as `stopped`, every result is kept',
      params: searchIdParams,
      responses: {
        202: { description: 'stopping', schema: searchRef },
        400: E400,
        404: E404,
        409: err('the search is not running'),
      },
    },
    (c) => {
      const { id } = parseWith(searchIdParams, c.req.param(), 'params')
      return c.json(capacity.stop(id), 202)
    },
  )
}
