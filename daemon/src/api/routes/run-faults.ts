import { z } from 'zod'
import type { FaultsSummary } from '../../engine/fault-timeline.ts'
import type { RunSummary } from '../../engine/summary.ts'
import type { RunManager } from '../../service/run-manager.ts'
import { parseWith } from '../errors.ts'
import type { Register } from '../openapi.ts'
import { errorResponse, runIdParams } from '../schemas.ts'

/** One `setup` / `faults` / `teardown` command as stored. */
const faultCommand = z.object({
  kind: z.enum(['setup', 'fault', 'teardown']),
  index: z.number(),
  name: z.string(),
  command: z.string(),
  atS: z.number().optional(),
  startUs: z.number(),
  endUs: z.number(),
  durationMs: z.number(),
  exitCode: z.number().nullable(),
  signal: z.string().nullable(),
  timedOut: z.boolean(),
  output: z.string(),
  outputDropped: z.number(),
  error: z.string().optional(),
})

const faultsResponse = z.object({
  id: z.string(),
  /** The commands in the order they started, with their output (at most 16 KiB each, secrets scrubbed). */
  commands: z.array(faultCommand),
  /** `summary.faults`: each fault's and outage's recovery figures; null before the run ended or without any. */
  figures: z.record(z.string(), z.unknown()).nullable(),
})

/** GET /v1/runs/{id}/faults: the fault timeline's commands and the recovery figures (docs/faults.md). */
export function runFaultRoutes(register: Register, manager: RunManager): void {
  register(
    {
      method: 'get',
      path: '/v1/runs/{id}/faults',
      summary: "A run's setup/faults/teardown commands (exit status, duration, output) and recovery figures",
      params: runIdParams,
      responses: {
        200: { description: 'commands and figures', schema: faultsResponse },
        400: { description: 'invalid id', schema: errorResponse },
        404: { description: 'no run with this id', schema: errorResponse },
      },
    },
    (c) => {
      const { id } = parseWith(runIdParams, c.req.param(), 'params')
      manager.get(id)
      const summary = manager.store.getRun(id)?.summary as RunSummary | null | undefined
      const figures: FaultsSummary | null = summary?.faults ?? null
      return c.json({ id, commands: manager.store.getFaultCommands?.(id) ?? [], figures })
    },
  )
}
