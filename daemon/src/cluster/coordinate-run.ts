import { monitorEventLoopDelay } from 'node:perf_hooks'
import type { Logger } from '../log/logger.ts'
import type { ResolvedScenario } from '../scenario/load-scenario.ts'
import type { ResultReader, ResultWriter, RunStatus } from '../store/result-store.ts'
import { clusterSummary } from './cluster-summary.ts'
import type { AdoptionEvent, Phase } from './coordinator-types.ts'
import type { ClusterMember } from './member.ts'
import { mergeCluster } from './merge.ts'
import type { RunPlan } from './plan.ts'
import type { TrustPolicy } from '../scenario/trust-policy.ts'
import type { ProducerReport } from './producer-task.ts'
import { readRunResults, readTasks } from './read-run-results.ts'
import type { RunLease } from './run-lease.ts'

/** One coordination of one run, by this daemon. */
export interface Coordination {
  member: ClusterMember
  /** Writes the merged run; reads its own record back (a stalled coordinator checks who owns it). */
  store: ResultWriter & Pick<ResultReader, 'getRun'>
  logger: Logger
  env: NodeJS.ProcessEnv
  policy: TrustPolicy
  plan: RunPlan
  resolved: ResolvedScenario
  lease: RunLease
  /** Where it starts: `advertise` when submitted here, the state it was left in when adopted. */
  from: Phase
  /** A user (or this daemon's shutdown) asked the run to stop. */
  stopped(): boolean
  /** The coordinator the run was adopted from. */
  adoptedFrom: string | undefined
  adoptions: AdoptionEvent[]
  /** Set on the adoption past the limit: the run ends `failed` with this reason after the merge. */
  failure: string | undefined
  readyTimeoutMs: number
  onLive(live: { sent: number; received: number; since: number }): void
  /** Aborted when the run is handed over mid-merge. */
  signal: AbortSignal
}

/** Longest wait for the consumers' and bridges' final partial second after `stop`. */
const FINAL_WAIT_MS = 15_000

async function updateLive(c: Coordination, since: number): Promise<{ sent: number; received: number }> {
  const { member, plan } = c
  const sent = (await member.redis.hvals(member.keys.sent(plan.id))).reduce((a, v) => a + Number(v), 0)
  const cons = await readTasks<{ received?: number }>(member, plan.id, 'consumer')
  const received = [...cons.values()].reduce((a, x) => a + (x.received ?? 0), 0)
  c.onLive({ sent, received, since })
  return { sent, received }
}

/** 1. Producers advertise, consumers and bridges claim every topic (bounded by readyTimeoutMs). */
async function awaitReady(c: Coordination): Promise<void> {
  const { member, plan, lease, logger } = c
  const expected = plan.producers.reduce((s, x) => s + x.devices, 0)
  const readyBy = Date.now() + c.readyTimeoutMs
  for (;;) {
    const prods = await readTasks<{ status: string; error?: string }>(member, plan.id, 'producer')
    const failed = [...prods.values()].find((x) => x.status === 'failed')
    if (failed) throw new Error(`a producer failed to start: ${failed.error}`)
    const claimed = async (role: string) =>
      [...(await readTasks<{ claimed?: number }>(member, plan.id, role)).values()].reduce(
        (s, x) => s + (x.claimed ?? 0),
        0,
      )
    const ok =
      prods.size === plan.producers.length &&
      (plan.consumers.length === 0 || (await claimed('consumer')) >= expected) &&
      (plan.bridges.length === 0 || (await claimed('bridge')) >= expected)
    if (ok || c.stopped()) return
    if (Date.now() > readyBy) {
      logger.warn('not every topic was claimed in time; starting anyway', { run: plan.id })
      return
    }
    await lease.sleep(200)
  }
}

/**
 * 3. Waits for the producers' reports (or their death), bounded by their schedule: a producer that
 * overran it by more than max(10 s, 4 leases) is stopped, so the run always moves on.
 */
async function awaitProducers(c: Coordination, startedAt: number): Promise<void> {
  const { member, plan, lease, logger } = c
  const k = member.keys
  const p = c.resolved.scenario.producer
  const overrunBy = startedAt + p.warmup + p.duration + Math.max(10_000, 4 * plan.leaseMs)
  for (;;) {
    const prods = await readTasks<ProducerReport>(member, plan.id, 'producer')
    const pending = plan.producers.filter((x) => {
      const t = prods.get(x.member)
      return !t || t.status === 'advertised'
    })
    if (pending.length === 0) return
    const alive = await member.alive(pending.map((x) => x.member))
    if (alive.size === 0) {
      logger.warn('producer daemons died mid-run', {
        run: plan.id,
        members: pending.map((x) => x.member).join(','),
      })
      return
    }
    if (Date.now() > overrunBy) {
      logger.warn('producers overran their schedule; stopping the run', {
        run: plan.id,
        members: pending.map((x) => x.member).join(','),
      })
      return
    }
    if (c.stopped()) await lease.set(k.state(plan.id), 'stop')
    await updateLive(c, startedAt)
    await lease.sleep(250)
  }
}

/** After `stop`: waits (bounded) until every live consumer and bridge wrote its final second. */
async function awaitWorkers(c: Coordination): Promise<void> {
  const { member, plan, lease } = c
  const workers = [...plan.consumers, ...plan.bridges]
  const until = Date.now() + FINAL_WAIT_MS
  while (Date.now() < until) {
    const cons = await readTasks<{ status: string }>(member, plan.id, 'consumer')
    const brs = await readTasks<{ status: string }>(member, plan.id, 'bridge')
    const alive = await member.alive(workers)
    const open = workers.filter((w) => {
      const t = cons.get(w) ?? brs.get(w)
      return alive.has(w) && t && t.status !== 'done' && t.status !== 'failed'
    })
    if (open.length === 0) return
    await lease.sleep(200)
  }
}

/**
 * Runs a coordination from its phase to the stored result: ready → go → producers → drain →
 * stop → final seconds → merge (sliced, never blocking the event loop) → end (fenced) → store.
 * Every wait is bounded, so the run reaches a terminal state whatever its daemons do.
 */
export async function coordinateRun(c: Coordination): Promise<void> {
  const { member, store, plan, lease } = c
  const k = member.keys
  const id = plan.id
  if (c.from === 'advertise') await awaitReady(c)
  // 2. Go (an adopted run went already: its start time is in Redis).
  let startedAt: number
  if (c.from === 'advertise') {
    startedAt = Date.now()
    await lease.set(k.startedAt(id), String(startedAt))
    await lease.set(k.state(id), c.stopped() ? 'stop' : 'go')
  } else startedAt = Number(await member.redis.get(k.startedAt(id))) || plan.epochMs
  store.updateRun(id, { status: 'running', startedAt })
  // An adopted `stop` may be a user's stop mid-run: the producers' reports are still awaited.
  if (!c.failure) await awaitProducers(c, startedAt)
  store.updateRun(id, { status: 'draining' })
  // Drain: until the consumers saw as many distinct messages as were sent, or the drain time.
  const drainUntil = Date.now() + c.resolved.scenario.run.drain
  while (c.from !== 'stop' && !c.failure && plan.consumers.length > 0 && Date.now() < drainUntil) {
    const { sent, received } = await updateLive(c, startedAt)
    if (received >= sent) break
    await lease.sleep(250)
  }
  await lease.set(k.state(id), 'stop')
  await awaitWorkers(c)
  lease.check()
  await finishRun(c, startedAt)
}

/** 4. Merges what reached Redis, ends the coordination (only if still ours), then stores. */
async function finishRun(c: Coordination, startedAt: number): Promise<void> {
  const { member, store, plan, lease, logger } = c
  const id = plan.id
  const t0 = Date.now()
  const res = await readRunResults(member, plan, c.resolved, { logger, env: c.env, policy: c.policy })
  const records = [...res.merge.results.values()].reduce((a, x) => a + x.length, 0)
  logger.info('cluster run merging', { run: id, topics: res.merge.topics.length, records })
  const t1 = Date.now()
  // The merge's own effect on the event loop, reported with the result (it must stay small).
  const loop = monitorEventLoopDelay({ resolution: 10 })
  loop.enable()
  const merged = await mergeCluster(res.merge, 20, c.signal).finally(() => loop.disable())
  const mergeMs = Date.now() - t1
  lease.check()
  const status: RunStatus = c.failure
    ? 'failed'
    : c.stopped()
      ? 'stopped'
      : anyFailed(res)
        ? 'failed'
        : 'completed'
  const { summary, rows, sent } = clusterSummary(
    {
      plan,
      resolved: c.resolved,
      startedAt,
      coordinator: member.id,
      adoptedFrom: c.adoptedFrom,
      adoptions: c.adoptions,
      status,
    },
    merged,
    res,
  )
  // Stored only if the run is still ours: a coordinator that stalled while merging finds it
  // adopted here and leaves the storing to the adopter.
  await lease.end()
  for (const s of merged.seconds) store.appendSecond(id, s)
  store.saveSummary(id, rows)
  store.updateRun(id, { status, endedAt: Date.now(), summary, error: c.failure ?? null })
  logger.info('cluster run ended', {
    run: id,
    status,
    sent,
    received: merged.total.received,
    gaps: merged.gaps.length,
    readMs: t1 - t0,
    mergeMs,
    records,
    maxLoopDelayMs: Math.round(loop.max / 1e6),
  })
}

function anyFailed(res: { producers: Map<string, ProducerReport> }): boolean {
  return [...res.producers.values()].some((x) => x.status === 'failed')
}
