import { readFileSync } from 'node:fs'
import { describeError } from '@iotload/sdk'
import type { Logger } from '../log/logger.ts'
import { RunManager, type RunManagerOptions, type RunView } from '../service/run-manager.ts'
import { daemonScenarioEnv } from '../service/run-manager.ts'
import { secrets } from '../log/secret-registry.ts'
import { ServiceError } from '../service/errors.ts'
import type { RunStatus } from '../store/result-store.ts'
import { ClusterCoordinator } from './coordinator.ts'
import { runBridgeTask } from './bridge-task.ts'
import { runConsumerTask } from './consumer-task.ts'
import { ClusterMember, type ClusterRole } from './member.ts'
import { type StopWatch, watchForOrphanRuns } from './orphan-watch.ts'
import { runProducerTask } from './producer-task.ts'
import type { RedisSettings } from './redis-client.ts'
import { readPlan, type TaskContext } from './task-context.ts'

/** Cluster settings of a daemon (flags / IOTLOAD_CLUSTER_* variables, see docs/cluster.md). */
export interface ClusterSettings {
  redis: RedisSettings
  roles: ClusterRole[]
  capacity: number
  /** Redis key prefix. @default 'iotload' */
  prefix: string
  /** Registration TTL, coordinator lock and claim lease, ms. @default 5000 */
  leaseMs: number
  /** Adoptions that resume a run; the next one ends it `failed`. @default 3 */
  maxAdoptions: number
  /** Main-thread silence after which this daemon's leases lapse. @default 30000 */
  stallBudgetMs: number
  /** Host other daemons reach this one at; the daemon adds its port. */
  advertiseHost: string
}

/**
 * A RunManager whose submissions become cluster runs: this daemon coordinates them, its member
 * executes whatever share coordinators assign to it. Reading, listing and deleting runs work as
 * for local runs (the coordinator keeps the merged run in its SQLite).
 */
export class ClusterRunManager extends RunManager {
  member: ClusterMember | undefined
  private coordinator: ClusterCoordinator | undefined
  private readonly tasks = new Set<Promise<void>>()
  private readonly clusterLogger: Logger
  private readonly scenarioEnv: NodeJS.ProcessEnv
  private stopWatch: StopWatch = async () => {}
  /** Aborted on shutdown: this daemon's parts of cluster runs end at once. */
  private readonly tasksAbort = new AbortController()

  constructor(
    options: RunManagerOptions & { logger: Logger },
    private readonly cluster: ClusterSettings,
  ) {
    super(options)
    this.clusterLogger = options.logger
    this.scenarioEnv = daemonScenarioEnv(options.env ?? process.env)
  }

  /** Registers in Redis once the daemon listens (the port is then known). */
  async join(port: number): Promise<void> {
    this.member = new ClusterMember(
      {
        redis: this.cluster.redis,
        roles: this.cluster.roles,
        capacity: this.cluster.capacity,
        advertise: `${this.cluster.advertiseHost}:${port}`,
        prefix: this.cluster.prefix,
        ttlMs: this.cluster.leaseMs,
        stallBudgetMs: this.cluster.stallBudgetMs,
      },
      this.clusterLogger,
    )
    this.coordinator = new ClusterCoordinator({
      member: this.member,
      store: this.store,
      logger: this.clusterLogger,
      env: this.scenarioEnv,
      policy: this.policy,
      leaseMs: this.cluster.leaseMs,
      maxAdoptions: this.cluster.maxAdoptions,
    })
    await this.member.start((runId) => this.onAssignment(runId))
    const coordinator = this.coordinator
    this.stopWatch = watchForOrphanRuns(
      this.member,
      {
        isActive: (id) => coordinator.isActive(id),
        // Adopted runs count against --max-runs like submitted ones.
        canAdopt: () => coordinator.activeCount < this.maxRuns,
        adopt: (id, taken) => coordinator.adopt(id, taken),
      },
      this.cluster.leaseMs,
      this.clusterLogger,
    )
  }

  private onAssignment(runId: string): void {
    const member = this.member!
    const ctx: TaskContext = {
      member,
      logger: this.clusterLogger.child({ run: runId }),
      env: this.scenarioEnv,
      policy: this.policy,
      signal: this.tasksAbort.signal,
    }
    const task = (async () => {
      const plan = await readPlan(member, runId)
      if (!plan) return
      // The run's secrets (registered by each task once its scenario validated) live as long as
      // this daemon's part of the run.
      secrets.openScope(runId)
      try {
        const jobs: Promise<void>[] = []
        if (plan.producers.some((p) => p.member === member.id)) jobs.push(runProducerTask(ctx, plan))
        if (plan.consumers.includes(member.id)) jobs.push(runConsumerTask(ctx, plan))
        if (plan.bridges.includes(member.id)) jobs.push(runBridgeTask(ctx, plan))
        await Promise.all(jobs)
      } finally {
        secrets.closeScope(runId)
      }
    })().catch((err) =>
      this.clusterLogger.error('cluster task failed', { run: runId, error: describeError(err) }),
    )
    this.tasks.add(task)
    void task.finally(() => this.tasks.delete(task))
  }

  override get activeCount(): number {
    return super.activeCount + (this.coordinator?.activeCount ?? 0)
  }

  override async start(raw: unknown): Promise<{ id: string; status: RunStatus }> {
    if (!this.coordinator)
      throw new ServiceError('unavailable', 'NOT_JOINED', 'the daemon has not joined its cluster yet')
    if (this.maxRuns === 0)
      throw new ServiceError('busy', 'TOO_MANY_RUNS', 'this daemon does not start runs (--max-runs 0)')
    if (this.coordinator.activeCount >= this.maxRuns)
      throw new ServiceError(
        'busy',
        'TOO_MANY_RUNS',
        `this daemon already coordinates ${this.coordinator.activeCount} runs, the limit is ${this.maxRuns} (--max-runs / IOTLOAD_MAX_RUNS)`,
      )
    return this.coordinator.submit(raw)
  }

  override get(id: string): RunView {
    const view = super.get(id)
    const live = this.coordinator?.live(id)
    if (!live || view.live) return view
    // gaps/invalid are known only after the merge; `received` counts distinct messages incl. warm-up.
    return {
      ...view,
      live: {
        id,
        status: view.status,
        second: live.second,
        sent: live.sent,
        received: live.received,
        gaps: 0,
        invalid: 0,
      },
    }
  }

  override stop(id: string): { id: string; status: RunStatus } {
    if (this.coordinator?.stop(id)) return { id, status: 'running' }
    return super.stop(id)
  }

  override async settled(id: string): Promise<void> {
    await this.coordinator?.settled(id)
    await super.settled(id)
  }

  override delete(id: string): void {
    if (this.coordinator?.isActive(id))
      throw new ServiceError(
        'conflict',
        'RUN_ACTIVE',
        `run ${id} is still executing; stop it first (POST /v1/runs/${id}/stop)`,
      )
    super.delete(id)
  }

  override async shutdown(): Promise<void> {
    // First: no run may be adopted once the coordinator has listed the runs it stops.
    this.coordinator?.refuseAdoptions()
    await this.stopWatch()
    // This daemon's parts end now (producers stop, consumers write their last second and release
    // their claims to the others) while its coordinations stop or hand over.
    this.tasksAbort.abort()
    await this.coordinator?.shutdown()
    await super.shutdown()
    await Promise.race([Promise.allSettled([...this.tasks]), new Promise((r) => setTimeout(r, 5000))])
    await this.member?.close()
  }
}

/** Reads cluster settings from flags and environment; undefined when no cluster URL is set. */
export function clusterSettingsFrom(
  flags: { cluster?: string | undefined; host: string },
  env: NodeJS.ProcessEnv,
): ClusterSettings | undefined {
  const url = flags.cluster ?? env.IOTLOAD_CLUSTER_URL
  if (!url) return undefined
  const roles = (env.IOTLOAD_ROLES ?? 'any')
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean) as ClusterRole[]
  for (const r of roles)
    if (!['producer', 'consumer', 'bridge', 'any'].includes(r))
      throw new Error(`IOTLOAD_ROLES: unknown role '${r}' (producer, consumer, bridge, any)`)
  const int = (name: string, def: number, min: number) => {
    const v = env[name]
    if (v === undefined || v === '') return def
    if (!/^\d+$/.test(v) || Number(v) < min)
      throw new Error(`${name} must be an integer ≥ ${min}, got '${v}'`)
    return Number(v)
  }
  const host =
    env.IOTLOAD_ADVERTISE_HOST ?? (flags.host === '0.0.0.0' || flags.host === '::' ? '127.0.0.1' : flags.host)
  const caFile = env.IOTLOAD_CLUSTER_TLS_CA
  let ca: Buffer | undefined
  if (caFile) {
    try {
      ca = readFileSync(caFile)
    } catch (err) {
      throw new Error(
        `cannot read IOTLOAD_CLUSTER_TLS_CA '${caFile}': ${(err as NodeJS.ErrnoException).code ?? err}`,
      )
    }
  }
  return {
    redis: { url, password: env.IOTLOAD_CLUSTER_PASSWORD || undefined, ...(ca ? { tls: { ca } } : {}) },
    roles: roles.length > 0 ? roles : ['any'],
    capacity: int('IOTLOAD_CAPACITY', 100_000, 1),
    prefix: env.IOTLOAD_CLUSTER_PREFIX || 'iotload',
    leaseMs: int('IOTLOAD_CLUSTER_LEASE_MS', 5000, 500),
    maxAdoptions: int('IOTLOAD_CLUSTER_MAX_ADOPTIONS', 3, 0),
    stallBudgetMs: int('IOTLOAD_CLUSTER_STALL_MS', 30_000, 1000),
    advertiseHost: host,
  }
}
