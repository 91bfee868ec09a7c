import { ConfigError, durationMsSchema } from '@iotload/sdk'
import { z } from 'zod'
import type { TrustPolicy } from './trust-policy.ts'

/** Longest `exec` command, in characters. */
export const MAX_EXEC_LENGTH = 4096
/** Most steps per list (`faults`, `setup`, `teardown`). */
export const MAX_FAULT_STEPS = 100

/**
 * One command of the scenario. It runs as written through `/bin/sh -c`, in its own process group
 * (a timeout kills the whole group), with iotload's working directory and environment.
 */
const execStep = {
  /** The shell command, run by `/bin/sh -c` exactly as written (pipes, `&&`, `$VAR` work). */
  exec: z.string().min(1).max(MAX_EXEC_LENGTH),
  /** Killed (its process group: SIGTERM, then SIGKILL 2 s later) when still running after this. @default '30s' */
  timeout: durationMsSchema.refine((ms) => ms > 0, 'must be greater than 0').default(30_000),
  /** Shown in the summary and the report. @default the command */
  name: z.string().min(1).max(200).optional(),
}

/** `faults[i]`: a command run at a point of the schedule (a broker restart, a partition). */
export const faultStepSchema = z
  .object({
    /** When, since the schedule started (warm-up included), e.g. `20s`. */
    at: durationMsSchema,
    ...execStep,
  })
  .strict()

/** `setup[i]` / `teardown[i]`: before connecting, and after everything closed (always, once setup ran). */
export const hookStepSchema = z.object(execStep).strict()

/**
 * `outages:`: how a drop iotload did not cause is told from noise. A second of the schedule whose
 * arrivals fall below `receivedBelow` × its target, or with at least `disconnects` dropped
 * connections, starts an outage (unless a fault's window already covers it).
 */
export const outageDetectionSchema = z
  .object({
    /** Share of the second's target rate below which arrivals count as an outage. @default 0.5 */
    receivedBelow: z.number().min(0).max(1).default(0.5),
    /** Dropped connections in one second that count as an outage. @default 1 */
    disconnects: z.number().int().min(1).default(1),
    /** Off: report only the scenario's own faults. @default true */
    enabled: z.boolean().default(true),
  })
  .strict()

/** The scenario keys this file adds (spread into `scenarioSchema`). */
export const faultScenarioKeys = {
  /** The fault timeline. */
  faults: z.array(faultStepSchema).max(MAX_FAULT_STEPS).optional(),
  /** Commands run before the run connects (start a broker it may restart, say). */
  setup: z.array(hookStepSchema).max(MAX_FAULT_STEPS).optional(),
  /** Commands run after the run closed everything, even when it failed. */
  teardown: z.array(hookStepSchema).max(MAX_FAULT_STEPS).optional(),
  outages: outageDetectionSchema.default({ receivedBelow: 0.5, disconnects: 1, enabled: true }),
}

export type FaultStep = z.output<typeof faultStepSchema>
export type HookStep = z.output<typeof hookStepSchema>
export type OutageDetection = z.output<typeof outageDetectionSchema>

const EXEC_LISTS = ['faults', 'setup', 'teardown'] as const

/**
 * A scenario from a REST request or Redis may run commands only when the operator started the
 * daemon with `--allow-exec`. Checked on the raw input, before anything is resolved or run.
 */
export function checkExecAllowed(raw: Record<string, unknown>, policy: TrustPolicy): void {
  if (policy.origin === 'local' || policy.allowExec) return
  for (const key of EXEC_LISTS) {
    const list = raw[key]
    if (!Array.isArray(list)) continue
    const i = list.findIndex((s) => s !== null && typeof s === 'object' && 'exec' in s)
    if (i >= 0)
      throw new ConfigError(
        `${key}[${i}].exec`,
        'running commands is refused for scenarios sent to the daemon; start it with --allow-exec (IOTLOAD_ALLOW_EXEC=1) to let REST scenarios run fault commands',
      )
  }
}

/** Every fault must fall within the schedule, which lasts `scheduleMs` (warm-up included). */
export function checkFaultTimes(faults: readonly FaultStep[] | undefined, scheduleMs: number): void {
  faults?.forEach((f, i) => {
    if (f.at >= scheduleMs)
      throw new ConfigError(`faults[${i}].at`, `must fall within the schedule (${scheduleMs / 1000}s long)`)
  })
}

/**
 * A cluster run hands the scenario to every producer daemon, and each would run the commands:
 * refused until a coordinator runs them once.
 */
export function refuseFaultsInCluster(s: {
  faults?: readonly unknown[] | undefined
  setup?: readonly unknown[] | undefined
  teardown?: readonly unknown[] | undefined
}): void {
  for (const key of EXEC_LISTS)
    if ((s[key]?.length ?? 0) > 0)
      throw new ConfigError(
        key,
        'not supported in cluster runs yet (every producer daemon would run the commands); run it with iotload run, or on a daemon without --cluster',
      )
}
