import type { LiveStatus } from '../../engine/live-status.ts'
import type { TrustPolicy } from '../../scenario/trust-policy.ts'
import type { RunManager } from '../../service/run-manager.ts'
import { scenarioSchema } from '../../scenario/schema.ts'
import { readBody } from '../body.ts'
import { parseWith } from '../errors.ts'
import type { Register } from '../openapi.ts'
import {
  errorResponse,
  listRunsQuery,
  runDetail,
  runIdParams,
  runList,
  runRef,
  stopResponse,
} from '../schemas.ts'
import { eventRoutes } from './events.ts'
import { reportRoutes } from './report.ts'
import { runFaultRoutes } from './run-faults.ts'
import { runResultRoutes } from './run-results.ts'

function startDescription(policy: TrustPolicy): string {
  const l = policy.limits
  const n = (v: number) => v.toLocaleString('en-US')
  return [
    'The body is a scenario, as JSON (Content-Type: application/json) or YAML (application/yaml); any other type, or none, is 415.',
    'It is validated completely (core fields, the plugin config, files and modules it names) before anything starts; a refusal is 400 naming the field.',
    `Limits of this daemon (raised only by its flags): ${n(l.maxRate)} msg/s in all (--max-rate), ${n(l.maxDevices)} devices or connections (--max-devices), ${n(l.maxRunTimeMs / 3_600_000)} h of duration + warmup + drain (--max-run-time), payloadSize ${n(l.maxPayloadBytes)} bytes (--max-payload-bytes), ${n(l.maxWorkers)} run.workers (--max-workers), name 200 characters.`,
    `Untrusted input: plugins by short name, @iotload/broker-*, or --plugin-allow; bridge.transform.module only inside --transform-dir (${policy.transformDir ? 'set' : 'not set: refused'}); \${file:…} and TLS files only inside --secrets-dir (${policy.secretsDir ? 'set' : 'not set: refused'}); \${env:…} only IOTLOAD_SECRET_* and --secret-env names; references only in broker.auth.*, broker.tls.* and fields a plugin marks secret; setup/faults/teardown exec commands only with --allow-exec (${policy.allowExec ? 'set' : 'not set: refused'}).`,
  ].join(' ')
}

const err = (description: string) => ({ description, schema: errorResponse })
const E400 = err('invalid path, query or body: `{error: {code, message, path}}`')
const E404 = err('no run with this id')

/** The live counters as the API shows them (the same figures the CLI prints each second). */
function liveView(l: LiveStatus) {
  return {
    second: l.second,
    sent: l.sent,
    received: l.received,
    gaps: l.gaps,
    invalid: l.invalid,
    stopping: l.stopping ?? false,
    elapsedS: l.elapsedS ?? null,
    remainingS: l.remainingS ?? null,
    targetRate: l.targetRate ?? null,
    lastSecond: l.lastSecond ?? null,
    connect: l.connect ?? null,
  }
}

/**
 * Run routes: start, list, inspect, stop, delete; with the results (series, percentiles,
 * histogram), report and compare, and the events stream.
 */
export function runRoutes(register: Register, manager: RunManager): void {
  register(
    {
      method: 'post',
      path: '/v1/runs',
      summary: 'Start a run',
      description: startDescription(manager.policy),
      body: { schema: scenarioSchema, yaml: true },
      responses: {
        201: { description: 'started; poll GET /v1/runs/{id}', schema: runRef },
        400: E400,
        413: err('body larger than the limit'),
        415: err('unsupported Content-Type'),
        429: err('the concurrency limit (--max-runs) is reached'),
      },
    },
    async (c) => {
      const raw = await readBody(c, { yaml: true })
      const ref = await manager.start(raw)
      c.header('Location', `/v1/runs/${ref.id}`)
      return c.json(ref, 201)
    },
  )

  register(
    {
      method: 'get',
      path: '/v1/runs',
      summary: 'List runs, newest first',
      query: listRunsQuery,
      responses: { 200: { description: 'one page', schema: runList }, 400: E400 },
    },
    (c) => {
      const q = parseWith(listRunsQuery, c.req.query(), 'query')
      const page = manager.list(q.limit + 1, q.offset)
      const runs = page.slice(0, q.limit).map(({ scenario: _s, summary: _m, ...r }) => r)
      return c.json({
        runs,
        limit: q.limit,
        offset: q.offset,
        nextOffset: page.length > q.limit ? q.offset + q.limit : null,
      })
    },
  )

  register(
    {
      method: 'get',
      path: '/v1/runs/{id}',
      summary: 'A run: status, redacted scenario, live counters while running, summary when done',
      params: runIdParams,
      responses: { 200: { description: 'the run', schema: runDetail }, 400: E400, 404: E404 },
    },
    (c) => {
      const { id } = parseWith(runIdParams, c.req.param(), 'params')
      const v = manager.get(id)
      return c.json({
        id: v.id,
        name: v.name,
        status: v.status,
        createdAt: v.createdAt,
        startedAt: v.startedAt,
        endedAt: v.endedAt,
        error: v.error,
        scenario: v.scenario,
        live: v.live ? liveView(v.live) : null,
        summary: v.summary,
      })
    },
  )

  register(
    {
      method: 'post',
      path: '/v1/runs/{id}/stop',
      summary: 'Stop a run; its results are kept and it ends as `stopped`',
      params: runIdParams,
      responses: {
        202: {
          description: 'stopping: the run finishes its current second, drains briefly and ends `stopped`',
          schema: stopResponse,
        },
        400: E400,
        404: E404,
        409: err('the run is not executing'),
      },
    },
    (c) => {
      const { id } = parseWith(runIdParams, c.req.param(), 'params')
      manager.stop(id)
      return c.json({ id, status: 'stopping' as const }, 202)
    },
  )

  register(
    {
      method: 'delete',
      path: '/v1/runs/{id}',
      summary: 'Delete a finished run and its rows',
      params: runIdParams,
      responses: {
        204: { description: 'deleted' },
        400: E400,
        404: E404,
        409: err('the run is still executing'),
      },
    },
    (c) => {
      const { id } = parseWith(runIdParams, c.req.param(), 'params')
      manager.delete(id)
      return c.body(null, 204)
    },
  )
  runResultRoutes(register, manager)
  runFaultRoutes(register, manager)
  reportRoutes(register, manager)
  eventRoutes(register, manager)
}
