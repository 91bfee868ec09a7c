import { checkFileLimit } from '../engine/fd-limit.ts'
import { describeError, type RunTelemetry } from '@iotload/sdk'
import { type LiveStatus, newRunId, type RunHandle, startRun } from '../engine/run.ts'
import { createLogger, type Logger } from '../log/logger.ts'
import { type ResolvedScenario, resolveScenario } from '../scenario/load-scenario.ts'
import { remotePolicy, SECRET_ENV_PREFIX, type TrustPolicy } from '../scenario/trust-policy.ts'
import type { RunRecord, RunStatus, RunStore } from '../store/result-store.ts'
import { ServiceError } from './errors.ts'
import { RunEvents, secondEvent } from './run-events.ts'

/** Options for `RunManager`. */
export interface RunManagerOptions {
  store: RunStore
  logger?: Logger
  /** Runs executing at once; more are refused (HTTP 429). 0 makes the daemon read-only. @default 4 */
  maxRuns?: number
  /** Metrics and tracing hooks passed to every run. */
  telemetry?: RunTelemetry
  /** Per-run hooks (labelled with the run's id and scenario); wins over `telemetry`. */
  telemetryFor?: (resolved: ResolvedScenario, id: string) => RunTelemetry | undefined
  /**
   * Environment for `${env:NAME}` references in submitted scenarios (the policy decides which
   * names a scenario may read). IOTLOAD_* variables other than IOTLOAD_SECRET_* are removed: they
   * configure the daemon itself and must not leak into (or override) client scenarios.
   * @default process.env
   */
  env?: NodeJS.ProcessEnv
  /** What submitted scenarios may read, load and ask for. @default remotePolicy() */
  policy?: TrustPolicy
  /** How long `shutdown()` waits for stopped runs to finish. @default 15000 */
  shutdownTimeoutMs?: number
}

/**
 * One of the `--max-runs` slots, held by work that executes several runs in turn (a find-max
 * search): its runs are tracked, listed and stopped on shutdown like any other, but count once.
 */
export interface RunSlot {
  /** Starts a run of a scenario already resolved by `resolve` inside this slot. */
  startRun(resolved: ResolvedScenario): RunHandle
  /** Gives the slot back; idempotent. */
  release(): void
}

/** A stored run plus, while it executes, its live counters. */
export interface RunView extends RunRecord {
  live: LiveStatus | null
}

const LIVE: RunStatus[] = ['pending', 'connecting', 'running', 'draining']

/** The environment scenarios sent to the daemon see: no IOTLOAD_* settings but IOTLOAD_SECRET_*. */
export function daemonScenarioEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(env))
    if (!k.startsWith('IOTLOAD_') || k.startsWith(SECRET_ENV_PREFIX)) out[k] = v
  return out
}

/**
 * Starts runs, tracks their live handles, enforces the concurrency limit, and stops everything on
 * shutdown. HTTP-agnostic: refusals are ServiceErrors, bad scenarios ConfigError/PluginLoadError.
 */
export class RunManager {
  readonly store: RunStore
  readonly maxRuns: number
  private readonly active = new Map<string, RunHandle>()
  /** Held slots: how to stop their holder on shutdown, and when it gave the slot back. */
  private readonly slots = new Set<{ stop: () => void; released: Promise<void> }>()
  /** Runs started inside a slot (the slot already counts them). */
  private readonly slotRuns = new Set<string>()
  private readonly logger: Logger
  private readonly env: NodeJS.ProcessEnv
  /** What submitted scenarios may read, load and ask for. */
  readonly policy: TrustPolicy
  /** Per-second lines and the end of each run this manager executes (the events stream). */
  readonly events = new RunEvents()
  private closing = false

  constructor(private readonly options: RunManagerOptions) {
    this.store = options.store
    this.maxRuns = options.maxRuns ?? 4
    this.logger = options.logger ?? createLogger()
    this.env = daemonScenarioEnv(options.env ?? process.env)
    this.policy = options.policy ?? remotePolicy()
  }

  /** Runs currently executing. */
  get activeCount(): number {
    return this.active.size
  }

  /** Validates a raw scenario under this daemon's policy and environment, as `start` does. */
  resolve(raw: unknown): Promise<ResolvedScenario> {
    return resolveScenario(raw, { env: this.env, policy: this.policy })
  }

  /** Slots in use: runs outside slots, plus held slots. */
  private get busy(): number {
    return this.active.size - this.slotRuns.size + this.slots.size
  }

  private checkCapacity(): void {
    if (this.closing) throw new ServiceError('unavailable', 'SHUTTING_DOWN', 'the daemon is shutting down')
    if (this.busy >= this.maxRuns) {
      throw new ServiceError(
        'busy',
        'TOO_MANY_RUNS',
        this.maxRuns === 0
          ? 'this daemon does not start runs (--max-runs 0)'
          : `${this.busy} runs are already executing, the limit is ${this.maxRuns} (--max-runs / IOTLOAD_MAX_RUNS); stop one or retry when one ends`,
      )
    }
  }

  /**
   * Takes one `--max-runs` slot for work that runs several runs in turn (429 ServiceError when
   * none is free). `stop` is called when the daemon shuts down; shutdown waits for `release`.
   */
  reserveSlot(stop: () => void): RunSlot {
    this.checkCapacity()
    let release!: () => void
    const entry = { stop, released: new Promise<void>((r) => (release = r)) }
    this.slots.add(entry)
    let held = true
    return {
      startRun: (resolved) => {
        if (!held) throw new Error('this run slot was released')
        if (this.closing)
          throw new ServiceError('unavailable', 'SHUTTING_DOWN', 'the daemon is shutting down')
        return this.launch(resolved, true)
      },
      release: () => {
        if (!held) return
        held = false
        this.slots.delete(entry)
        release()
      },
    }
  }

  /** Validates and starts a raw scenario (parsed JSON/YAML). Resolves once the run is stored. */
  async start(raw: unknown): Promise<{ id: string; status: RunStatus }> {
    if (this.closing) throw new ServiceError('unavailable', 'SHUTTING_DOWN', 'the daemon is shutting down')
    const resolved = await this.resolve(raw)
    // A fleet that cannot fit in this process's `ulimit -n` is refused (400) before it connects.
    checkFileLimit(resolved.scenario)
    // Checked after validation so a bad scenario is reported as such even when the daemon is full;
    // no await between this check and startRun, so the limit holds under concurrent requests.
    this.checkCapacity()
    const handle = this.launch(resolved)
    return { id: handle.id, status: handle.live().status }
  }

  private launch(resolved: ResolvedScenario, inSlot = false): RunHandle {
    const id = newRunId()
    let telemetry = this.options.telemetry
    try {
      telemetry = this.options.telemetryFor?.(resolved, id) ?? telemetry
    } catch (err) {
      // Telemetry never stops a run (OTel rule): run without it and say so.
      this.logger.warn('telemetry setup failed; running without it', { run: id, error: describeError(err) })
    }
    const handle = startRun(resolved, {
      id,
      store: this.store,
      logger: this.logger,
      ...(telemetry ? { telemetry } : {}),
      onSecond: (r) => this.events.emit(id, { type: 'second', data: secondEvent(r) }),
    })
    if (inSlot) this.slotRuns.add(handle.id)
    this.active.set(handle.id, handle)
    this.logger.info('run started', { run: handle.id, name: resolved.scenario.name })
    void handle.result
      .then(
        (s) => this.logger.info('run ended', { run: handle.id, status: s.run.status }),
        (err) => this.logger.error('run crashed', { run: handle.id, error: describeError(err) }),
      )
      .finally(() => {
        this.active.delete(handle.id)
        this.slotRuns.delete(handle.id)
        this.events.emit(handle.id, {
          type: 'end',
          data: { status: this.store.getRun(handle.id)?.status ?? 'unknown' },
        })
      })
    return handle
  }

  /** A run by id, with live counters while it executes; 404 ServiceError when unknown. */
  get(id: string): RunView {
    const record = this.store.getRun(id)
    if (!record) throw notFound(id)
    const handle = this.active.get(id)
    if (!handle) return { ...record, live: null }
    const live = handle.live()
    return { ...record, status: live.status, live }
  }

  /** Newest first. */
  list(limit: number, offset: number): RunRecord[] {
    return this.store.listRuns({ limit, offset }).map((r) => {
      const h = this.active.get(r.id)
      return h ? { ...r, status: h.live().status } : r
    })
  }

  /** Asks a running run to stop; it finishes as `stopped` with its results kept. */
  stop(id: string): { id: string; status: RunStatus } {
    const handle = this.active.get(id)
    if (!handle) {
      const record = this.store.getRun(id)
      if (!record) throw notFound(id)
      throw new ServiceError('conflict', 'RUN_NOT_RUNNING', `run ${id} is ${record.status}, not running`)
    }
    handle.stop()
    return { id, status: handle.live().status }
  }

  /** Whether a run executes on this manager now (its events can be listened to). */
  isActive(id: string): boolean {
    return this.active.has(id)
  }

  /** Waits for an executing run to end (tests, shutdown); resolves at once otherwise. */
  async settled(id: string): Promise<void> {
    await this.active.get(id)?.result
  }

  /** Deletes a finished run and its rows; 409 while it executes. */
  delete(id: string): void {
    if (this.active.has(id))
      throw new ServiceError(
        'conflict',
        'RUN_ACTIVE',
        `run ${id} is still executing; stop it first (POST /v1/runs/${id}/stop)`,
      )
    if (!this.store.deleteRun(id)) throw notFound(id)
  }

  /** Stored runs per status (live ones counted from their handles), for /metrics. */
  countByStatus(): Record<string, number> {
    const counts = this.store.countByStatus()
    for (const s of LIVE) delete counts[s]
    for (const h of this.active.values()) {
      const s = h.live().status
      counts[s] = (counts[s] ?? 0) + 1
    }
    return counts
  }

  /** Refuses new runs, stops every executing one and waits (bounded) for their results to be stored. */
  async shutdown(): Promise<void> {
    this.closing = true
    const pending = [...this.active.values()]
    const slots = [...this.slots]
    for (const slot of slots) {
      try {
        slot.stop()
      } catch (err) {
        this.logger.warn('stopping a run slot failed', { error: describeError(err) })
      }
    }
    for (const h of pending) h.stop()
    const timeout = this.options.shutdownTimeoutMs ?? 15_000
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      Promise.allSettled([...pending.map((h) => h.result), ...slots.map((s) => s.released)]),
      new Promise((r) => {
        timer = setTimeout(r, timeout)
      }),
    ])
    if (timer) clearTimeout(timer)
    if (this.active.size > 0)
      this.logger.warn('runs still finishing at shutdown; they will show as interrupted', {
        runs: [...this.active.keys()].join(','),
      })
  }
}

function notFound(id: string): ServiceError {
  return new ServiceError('not-found', 'RUN_NOT_FOUND', `no run with id '${id}'`)
}
