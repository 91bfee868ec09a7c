import type { Logger } from '../log/logger.ts'
import { type ResolvedScenario, resolveScenario } from '../scenario/load-scenario.ts'
import { secrets } from '../log/secret-registry.ts'
import type { TrustPolicy } from '../scenario/trust-policy.ts'
import type { ClockEstimate } from './clock.ts'
import { exchangeClock } from './clock-exchange.ts'
import type { ClusterMember } from './member.ts'
import type { RunPlan } from './plan.ts'

/** What a member's task for one run needs. */
export interface TaskContext {
  member: ClusterMember
  logger: Logger
  /** Environment for `${env:NAME}` in scenarios (IOTLOAD_* removed). */
  env: NodeJS.ProcessEnv
  /**
   * What a scenario read from Redis may do: whoever can write to Redis must not get more than a
   * REST client gets (plugin names, transform modules, files, env variables, limits).
   */
  policy: TrustPolicy
  /** Aborted when the daemon shuts down: the task ends its part at once. */
  signal?: AbortSignal
}

/**
 * Validates a scenario read from Redis under the daemon's policy, and registers its secrets in the
 * run's scope (opened by the daemon for the life of its part of the run).
 */
export async function resolvePlanScenario(
  ctx: TaskContext,
  raw: unknown,
  runId: string,
): Promise<ResolvedScenario> {
  const resolved = await resolveScenario(raw, { env: ctx.env, policy: ctx.policy })
  for (const value of resolved.secrets) secrets.add(value, runId)
  return resolved
}

/** Reads a run's plan; undefined when it expired or never existed. */
export async function readPlan(member: ClusterMember, runId: string): Promise<RunPlan | undefined> {
  const text = await member.redis.get(member.keys.plan(runId))
  return text ? (JSON.parse(text) as RunPlan) : undefined
}

/** Reads a run's state key. */
export async function readState(member: ClusterMember, runId: string): Promise<string | null> {
  return member.redis.get(member.keys.state(runId))
}

/** Polls the run state until it is one of `wanted`, or the timeout. */
export async function waitForState(
  member: ClusterMember,
  runId: string,
  wanted: string[],
  timeoutMs: number,
): Promise<string | null> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const s = await readState(member, runId)
    if (s !== null && wanted.includes(s)) return s
    if (Date.now() > until) return s
    await sleep(100)
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/** Expiry of every key a run writes: results outlive the run long enough to be merged and inspected. */
export const RUN_KEY_TTL_S = 24 * 3600

/**
 * Measures this daemon's clock offset to the run's coordinator (four-timestamp exchange) and
 * publishes it at `run:{id}:clocks` for the summary and for consumers' latency correction.
 */
export async function syncWithCoordinator(
  member: ClusterMember,
  plan: RunPlan,
  logger: Logger,
): Promise<ClockEstimate> {
  try {
    const est = await exchangeClock(member.redis, member.keys, member.id, plan.coordinator)
    await member.redis
      .multi()
      .hset(
        member.keys.clocks(plan.id),
        member.id,
        JSON.stringify({ offsetUs: est.offsetUs, uncertaintyUs: est.uncertaintyUs }),
      )
      .expire(member.keys.clocks(plan.id), RUN_KEY_TTL_S)
      .exec()
    return est
  } catch (err) {
    logger.warn('clock exchange with the coordinator failed; assuming offset 0', { error: String(err) })
    return { offsetUs: 0, uncertaintyUs: Number.POSITIVE_INFINITY, atUs: 0 }
  }
}

/** Local µs of second 0 of the run's series: the coordinator's epoch on this daemon's clock. */
export function epochLocalUs(plan: RunPlan, toCoordinator: ClockEstimate): number {
  return plan.epochMs * 1000 - toCoordinator.offsetUs
}
