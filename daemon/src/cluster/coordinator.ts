import { describeError } from '@iotload/sdk'
import { newRunId } from '../engine/run.ts'
import { refuseFaultsInCluster } from '../scenario/faults-schema.ts'
import { type ResolvedScenario, resolveScenario } from '../scenario/load-scenario.ts'
import { ServiceError } from '../service/errors.ts'
import type { RunStatus } from '../store/result-store.ts'
import { type Coordination, coordinateRun } from './coordinate-run.ts'
import type { AdoptionEvent, CoordinatorOptions, Phase } from './coordinator-types.ts'
import { assignRoles, type RunPlan } from './plan.ts'
import { HandOverError, LockLostError, RunLease } from './run-lease.ts'
import { RUN_KEY_TTL_S, readPlan } from './task-context.ts'

export type { CoordinatorOptions, MemberClock } from './coordinator-types.ts'

/** What `adopt` learnt when it took an orphaned run's lock. */
export interface Adoption {
  /** Adoptions of this run so far, this one included (hand-overs on shutdown not counted). */
  count: number
  /** Set when the previous coordinator handed the run over on shutdown. */
  handedOverBy: string | undefined
}

interface Running {
  done: Promise<void>
  lease: RunLease
  abort: AbortController
  adopted: boolean
}

/**
 * Coordinates cluster runs from this daemon: a submitted run is planned here (devices split
 * across producers by capacity), an orphaned one adopted; each is coordinated under its lock
 * (kept by the lease keeper's thread) through coordinate-run.ts, and stored in this daemon's SQLite.
 */
export class ClusterCoordinator {
  private readonly leaseMs: number
  private readonly maxAdoptions: number
  private readonly stopRequested = new Set<string>()
  private adoptionsRefused = false
  private readonly running = new Map<string, Running>()
  private readonly liveCounts = new Map<string, { sent: number; received: number; since: number }>()

  constructor(private readonly o: CoordinatorOptions) {
    this.leaseMs = o.leaseMs ?? 5000
    this.maxAdoptions = o.maxAdoptions ?? 3
  }

  get activeCount(): number {
    return this.running.size
  }

  isActive(id: string): boolean {
    return this.running.has(id)
  }

  /** Validates, plans and starts a cluster run; resolves once it is stored and assigned. */
  async submit(raw: unknown): Promise<{ id: string; status: RunStatus }> {
    const { member, store } = this.o
    const scenario = structuredClone(raw) as Record<string, unknown>
    // resolveScenario applies env overrides onto the raw object: keep the unresolved copy to ship.
    const resolved = await resolveScenario(structuredClone(scenario), {
      env: this.o.env,
      policy: this.o.policy,
    })
    refuseFaultsInCluster(resolved.scenario)
    const roles = assignRoles(resolved, await member.liveMembers())
    const id = newRunId()
    const lock = await member.redis.set(member.keys.coordinator(id), member.id, 'PX', this.leaseMs, 'NX')
    if (lock !== 'OK')
      throw new ServiceError('conflict', 'RUN_COORDINATED', `run ${id} is already coordinated elsewhere`)
    const lease = new RunLease(member, id, this.leaseMs)
    const plan: RunPlan = {
      id,
      coordinator: member.id,
      scenario,
      ...roles,
      leaseMs: this.leaseMs,
      epochMs: Date.now(),
      createdAt: Date.now(),
    }
    store.createRun({
      id,
      name: resolved.scenario.name,
      scenario: resolved.redacted,
      createdAt: plan.createdAt,
    })
    store.updateRun(id, { status: 'connecting' })
    const k = member.keys
    const m = member.redis
      .multi()
      .set(k.plan(id), JSON.stringify(plan), 'EX', RUN_KEY_TTL_S)
      .set(k.state(id), 'advertise', 'EX', RUN_KEY_TTL_S)
      .sadd(k.coordinatedRuns, id)
    const assigned = new Set([...plan.producers.map((x) => x.member), ...plan.consumers, ...plan.bridges])
    for (const a of assigned) m.rpush(k.inbox(a), id).expire(k.inbox(a), RUN_KEY_TTL_S)
    await m.exec()
    this.o.logger.info('cluster run planned', {
      run: id,
      producers: plan.producers.map((x) => `${x.member}[${x.firstDevice}+${x.devices}]`).join(' '),
      consumers: plan.consumers.join(' '),
      bridges: plan.bridges.join(' '),
    })
    this.launch(plan, resolved, 'advertise', lease, { adoptions: [], adopted: false })
    return { id, status: 'connecting' }
  }

  private launch(
    plan: RunPlan,
    resolved: ResolvedScenario,
    from: Phase,
    lease: RunLease,
    x: { adoptedFrom?: string; adoptions: AdoptionEvent[]; failure?: string; adopted: boolean },
  ): void {
    const { member, store, logger, env, policy } = this.o
    const id = plan.id
    const abort = new AbortController()
    const c: Coordination = {
      member,
      store,
      logger,
      env,
      policy,
      plan,
      resolved,
      lease,
      from,
      stopped: () => this.stopRequested.has(id),
      adoptedFrom: x.adoptedFrom,
      adoptions: x.adoptions,
      failure: x.failure,
      readyTimeoutMs: this.o.readyTimeoutMs ?? 60_000,
      onLive: (l) => this.liveCounts.set(id, l),
      signal: abort.signal,
    }
    const done = coordinateRun(c)
      .catch((err) => this.ended(id, lease, err))
      .catch((err) => logger.error('cluster run cleanup failed', { run: id, error: describeError(err) }))
      .finally(() => {
        lease.close()
        this.running.delete(id)
        this.liveCounts.delete(id)
      })
    this.running.set(id, { done, lease, abort, adopted: x.adopted })
  }

  /** A coordination that did not store its run: why, said once, and the run ended if still ours. */
  private async ended(id: string, lease: RunLease, err: unknown): Promise<void> {
    const { store, logger, member } = this.o
    const endedAt = Date.now()
    if (err instanceof LockLostError) {
      const planGone = err.holder === null && !(await readPlan(member, id).catch(() => undefined))
      if (planGone) {
        logger.error('Redis lost the run (restarted without persistence?); it cannot be merged', { run: id })
        store.updateRun(id, { status: 'failed', endedAt, error: `Redis lost run ${id}'s keys` })
        return
      }
      // Stalled past the lease (paused, starved): the adopter finishes and stores the run.
      logger.warn('this daemon stalled past its coordinator lease; another daemon finishes the run', {
        run: id,
        coordinator: err.holder ?? 'none yet',
      })
      store.updateRun(id, { status: 'interrupted', endedAt, error: err.message })
      return
    }
    if (err instanceof HandOverError) {
      await lease.handOver()
      logger.info('handed the cluster run over to another daemon (shutting down)', { run: id })
      store.updateRun(id, { status: 'interrupted', endedAt, error: err.message })
      return
    }
    logger.error('cluster run failed', { run: id, error: describeError(err) })
    store.updateRun(id, { status: 'failed', endedAt, error: describeError(err) })
    // End it all the same (workers stop, nobody adopts it), if it is still ours.
    await lease.end().catch(() => {})
  }

  /**
   * Takes over a run whose coordinator is gone (the caller just took its lock): the plan and
   * everything recorded are in Redis, so coordination resumes at the phase the state key names.
   * Past `maxAdoptions` the run is ended `failed` instead, with everything in Redis merged.
   */
  async adopt(id: string, taken: Adoption): Promise<void> {
    const { member, store, logger } = this.o
    const k = member.keys
    const lease = new RunLease(member, id, this.leaseMs)
    try {
      const state = await member.redis.get(k.state(id))
      const plan = state === null || state === 'done' ? undefined : await readPlan(member, id)
      if (!plan || this.adoptionsRefused) {
        // Ended meanwhile, expired, or this daemon is shutting down: leave it.
        if (!plan) await member.redis.srem(k.coordinatedRuns, id)
        await lease.release()
        return
      }
      const resolved = await resolveScenario(structuredClone(plan.scenario), {
        env: this.o.env,
        policy: this.o.policy,
      })
      lease.check()
      if (await member.redis.get(k.stopRequested(id))) this.stopRequested.add(id)
      const earlier = (await member.redis.lrange(k.adoptions(id), 0, -1)).map(
        (e) => JSON.parse(e) as AdoptionEvent,
      )
      const event: AdoptionEvent = {
        from: taken.handedOverBy ?? earlier.at(-1)?.by ?? plan.coordinator,
        by: member.id,
        state: state!,
        atMs: Date.now(),
        handover: taken.handedOverBy !== undefined,
      }
      await member.redis
        .multi()
        .rpush(k.adoptions(id), JSON.stringify(event))
        .expire(k.adoptions(id), RUN_KEY_TTL_S)
        .exec()
      const adoptions = [...earlier, event]
      const stalls = adoptions.filter((a) => !a.handover)
      const failure =
        taken.count > this.maxAdoptions
          ? `adopted ${taken.count} times, the limit is ${this.maxAdoptions} (IOTLOAD_CLUSTER_MAX_ADOPTIONS): coordinators stopped renewing their lease at ${stalls.map((a) => `${a.from} (${a.state})`).join(', ')}; merged what reached Redis`
          : undefined
      logger.warn('adopting a cluster run whose coordinator is gone', {
        run: id,
        from: event.from,
        state,
        adoption: `${taken.count}/${this.maxAdoptions}`,
        ...(event.handover ? { handover: true } : {}),
      })
      if (!store.getRun(id))
        store.createRun({
          id,
          name: resolved.scenario.name,
          scenario: resolved.redacted,
          createdAt: plan.createdAt,
        })
      if (taken.count > this.maxAdoptions + 1) {
        // The final merge was itself adopted: end the run without trying again.
        await lease.end()
        const error = `${failure}; the final merge did not finish either, nothing was stored`
        store.updateRun(id, { status: 'failed', endedAt: Date.now(), error })
        logger.error('cluster run failed', { run: id, error })
        return
      }
      const from: Phase = failure ? 'stop' : state === 'go' || state === 'stop' ? state : 'advertise'
      this.launch(plan, resolved, from, lease, {
        adoptedFrom: plan.coordinator,
        adoptions,
        ...(failure ? { failure } : {}),
        adopted: true,
      })
    } catch (err) {
      await lease.release()
      throw err
    }
  }

  /** Asks a coordinated run to stop; results so far are merged and kept. */
  stop(id: string): boolean {
    if (!this.running.has(id)) return false
    this.stopRequested.add(id)
    const { member } = this.o
    void member.redis.set(member.keys.stopRequested(id), '1', 'EX', RUN_KEY_TTL_S).catch(() => {})
    return true
  }

  /** Live counters of a coordinated run (sent by producers, distinct messages seen by consumers). */
  live(id: string): { sent: number; received: number; second: number } | undefined {
    const l = this.liveCounts.get(id)
    return l
      ? { sent: l.sent, received: l.received, second: Math.floor((Date.now() - l.since) / 1000) }
      : undefined
  }

  async settled(id: string): Promise<void> {
    await this.running.get(id)?.done
  }

  /** From now on `adopt` leaves runs to other daemons (this one is shutting down). */
  refuseAdoptions(): void {
    this.adoptionsRefused = true
  }

  /**
   * Stops the runs submitted here (merged and kept, as a single daemon does) and hands adopted
   * ones over to another daemon at once, so a shutdown never waits for someone else's run.
   */
  async shutdown(): Promise<void> {
    this.adoptionsRefused = true
    for (const [id, r] of this.running) {
      if (r.adopted) {
        r.lease.requestHandOver()
        r.abort.abort(new HandOverError(id))
      } else this.stopRequested.add(id)
    }
    await Promise.allSettled([...this.running.values()].map((r) => r.done))
  }
}
