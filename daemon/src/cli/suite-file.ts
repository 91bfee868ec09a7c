import { readFile } from 'node:fs/promises'
import { ConfigError, describeError } from '@iotload/sdk'
import { z } from 'zod'
import { type ResolvedScenario, parseScenarioText, resolveScenario } from '../scenario/load-scenario.ts'
import type { TrustPolicy } from '../scenario/trust-policy.ts'
import { configErrorFrom } from '../scenario/zod-errors.ts'

/** What a target may change of the workload's producer: how it is addressed, never the load. */
const PRODUCER_ADDRESSING = ['topic', 'connections', 'qos', 'clientId', 'connectConcurrency'] as const

const section = z.record(z.string(), z.unknown())

/** One target of a suite: a broker (and its own bridge, topics) to run the workload against. */
const targetSchema = z
  .object({
    /** Shown in the comparison. */
    name: z.string().min(1).max(100),
    /** The `broker:` section of a scenario. */
    broker: section,
    /** This target's bridge (replaces the workload's); null: no bridge for this target. */
    bridge: section.nullable().optional(),
    /** Addressing only: topic, connections, qos, clientId, connectConcurrency. */
    producer: section.optional(),
    /** The consumer's topic, group, … for this broker. */
    consumer: section.optional(),
  })
  .strict()

/** A suite file: one workload, several targets, one comparison report. */
export const suiteSchema = z
  .object({
    /** The comparison's title. @default 'suite' */
    name: z.string().min(1).max(200).default('suite'),
    /** Payload seed every target uses, so each broker carries the same messages. @default 1 */
    seed: z.number().int().default(1),
    /** A scenario without `broker:` (producer, consumer, bridge, slo, run). */
    workload: section,
    targets: z.array(targetSchema).min(1).max(50),
    /** Where the comparison is written. @default suite-<first run id>.html */
    report: z.string().min(1).optional(),
  })
  .strict()

/** A parsed suite file. */
export type Suite = z.infer<typeof suiteSchema>

/** One target, validated: its scenario resolved exactly as `iotload run` would. */
export interface SuiteTarget {
  name: string
  resolved: ResolvedScenario
}

/** The scenario a target runs: the workload with the target's broker, bridge and addressing. */
export function targetScenario(suite: Suite, index: number): Record<string, unknown> {
  const t = suite.targets[index]!
  const w = structuredClone(suite.workload) as Record<string, unknown>
  if ('broker' in w)
    throw new ConfigError('workload.broker', 'the workload has no broker: each target names its own')
  for (const key of Object.keys(t.producer ?? {}))
    if (!(PRODUCER_ADDRESSING as readonly string[]).includes(key))
      throw new ConfigError(
        `targets[${index}].producer.${key}`,
        `a target may only change how the workload is addressed (${PRODUCER_ADDRESSING.join(', ')}); the load is the workload's`,
      )
  const run = { ...((w.run as Record<string, unknown> | undefined) ?? {}), seed: suite.seed }
  const scenario: Record<string, unknown> = {
    ...w,
    name: t.name,
    broker: t.broker,
    producer: { ...((w.producer as Record<string, unknown> | undefined) ?? {}), ...(t.producer ?? {}) },
    run,
  }
  if (t.consumer)
    scenario.consumer = { ...((w.consumer as Record<string, unknown> | undefined) ?? {}), ...t.consumer }
  if (t.bridge === null) delete scenario.bridge
  else if (t.bridge) scenario.bridge = t.bridge
  return scenario
}

/** Reads and checks a suite file's shape (targets are resolved by `resolveSuite`). */
export async function readSuite(path: string): Promise<Suite> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw new ConfigError(
      '',
      `cannot read suite file '${path}': ${(err as NodeJS.ErrnoException).code ?? describeError(err)}`,
    )
  }
  const parsed = suiteSchema.safeParse(parseScenarioText(text, path))
  if (!parsed.success) throw configErrorFrom(parsed.error)
  return parsed.data
}

/**
 * The environment targets resolve with: IOTLOAD_BROKER_* and IOTLOAD_BRIDGE_* would point every
 * target at one broker, so they are left out (and named, for a warning).
 */
export function suiteEnv(env: NodeJS.ProcessEnv): { env: NodeJS.ProcessEnv; ignored: string[] } {
  const out: NodeJS.ProcessEnv = {}
  const ignored: string[] = []
  for (const [k, v] of Object.entries(env)) {
    if (k.startsWith('IOTLOAD_BROKER_') || k.startsWith('IOTLOAD_BRIDGE_')) ignored.push(k)
    else out[k] = v
  }
  return { env: out, ignored }
}

/**
 * Resolves every target before anything runs, so a typo in the last target is found before the
 * first one spends minutes. Throws one ConfigError listing every target's problem.
 */
export async function resolveSuite(
  suite: Suite,
  policy: TrustPolicy,
  env: NodeJS.ProcessEnv,
): Promise<SuiteTarget[]> {
  const targets: SuiteTarget[] = []
  const problems: string[] = []
  for (let i = 0; i < suite.targets.length; i++) {
    const name = suite.targets[i]!.name
    try {
      targets.push({ name, resolved: await resolveScenario(targetScenario(suite, i), { env, policy }) })
    } catch (err) {
      problems.push(`targets[${i}] '${name}': ${describeError(err)}`)
    }
  }
  const names = suite.targets.map((t) => t.name)
  const dup = names.find((n, i) => names.indexOf(n) !== i)
  if (dup) problems.push(`targets: the name '${dup}' is used twice; each target needs its own`)
  if (problems.length > 0)
    throw new ConfigError('', `the suite is invalid; nothing was run:\n  ${problems.join('\n  ')}`)
  return targets
}
