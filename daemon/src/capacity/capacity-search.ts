import { describeError } from '@iotload/sdk'
import { newRunId, type RunHandle } from '../engine/run.ts'
import type { Logger } from '../log/logger.ts'
import type { ResolvedScenario } from '../scenario/load-scenario.ts'
import type { CapacityStore, SearchState } from './capacity-store.ts'
import { type PreparedSearch, probeScenario, type Resolve } from './prepare.ts'
import { buildResult, type CapacityResult } from './result.ts'
import { type ProbeOutcome, searchCapacity } from './search.ts'
import { type CurvePoint, curvePoint, judgeProbe } from './verdict.ts'

/** CPU use while sending below which a lagging generator was starved rather than saturated, cores. */
const STARVED_BELOW_CORES = 0.8

/** What a search needs from where it runs (the CLI, or the daemon's run manager). */
export interface CapacitySearchDeps {
  /** Starts one probe run of a resolved probe scenario; the run stores itself. */
  startRun(resolved: ResolvedScenario): RunHandle
  /** Resolves each probe scenario under the caller's policy. */
  resolveProbe: Resolve
  store?: CapacityStore
  logger: Logger
  /** After each probe, with its point and index (0-based). */
  onProbe?: (point: CurvePoint, index: number) => void
  /** Milliseconds, for the time budget. @default Date.now */
  now?: () => number
  /** @default a random id */
  id?: string
}

/**
 * A find-max search in progress: probes run one after another as stored runs, each judged and
 * linked to the search; `done` resolves with the result (it never rejects).
 */
export class CapacitySearch {
  readonly id: string
  readonly createdAt = Date.now()
  status: SearchState = 'running'
  readonly points: CurvePoint[] = []
  /** The probe running now. */
  current: { rate: number; runId: string } | null = null
  result: CapacityResult | undefined
  error: string | undefined
  readonly done: Promise<CapacityResult>
  private stopRequested = false
  private running: RunHandle | undefined

  constructor(
    readonly prepared: PreparedSearch,
    private readonly deps: CapacitySearchDeps,
  ) {
    this.id = deps.id ?? newRunId()
    deps.store?.createSearch({
      id: this.id,
      name: prepared.name,
      createdAt: this.createdAt,
      options: { ...prepared.options, floor: prepared.bounds.floor, ceiling: prepared.bounds.ceiling },
      scenario: prepared.redacted,
    })
    this.done = this.execute()
  }

  /** Stops the running probe and ends the search as `stopped`; probes so far are kept. */
  stop(): void {
    this.stopRequested = true
    this.running?.stop()
  }

  private async probe(rate: number): Promise<ProbeOutcome> {
    const { deps, prepared } = this
    let resolved: ResolvedScenario
    try {
      resolved = await deps.resolveProbe(probeScenario(prepared, rate, this.id))
    } catch (err) {
      this.error = describeError(err)
      return { ok: false, limit: 'error' }
    }
    const handle = deps.startRun(resolved)
    this.running = handle
    this.current = { rate, runId: handle.id }
    if (this.stopRequested) handle.stop()
    const sampler = cpuWhileSending(() => handle.live().status === 'running')
    const summary = await handle.result
    const cores = sampler.stop()
    this.running = undefined
    this.current = null
    const verdict = judgeProbe(summary, rate, { maxFinalLagUs: prepared.options.maxFinalLag * 1000 })
    // One event loop saturates near one core; well below that, the CPU went to other processes.
    if (verdict.limit === 'generator' && cores !== undefined && cores < STARVED_BELOW_CORES)
      verdict.reasons.push(
        `this process used ${cores.toFixed(2)} cores while sending: other processes on this machine (the broker's among them) held the CPU`,
      )
    const point = curvePoint(summary, rate, verdict, cores)
    if (this.stopRequested) return { ok: false, limit: null }
    this.points.push(point)
    if (verdict.limit === 'error') this.error = verdict.reasons.join('; ')
    try {
      deps.store?.addProbe(this.id, this.points.length - 1, point)
    } catch (err) {
      deps.logger.error('store write failed', { search: this.id, error: describeError(err) })
    }
    deps.logger.info('find-max probe', {
      search: this.id,
      rate,
      ok: point.ok,
      ...(point.limit ? { limit: point.limit } : {}),
      run: point.runId,
    })
    try {
      deps.onProbe?.(point, this.points.length - 1)
    } catch {}
    return { ok: verdict.ok, limit: verdict.limit }
  }

  private async execute(): Promise<CapacityResult> {
    const now = this.deps.now ?? Date.now
    const started = now()
    let result: CapacityResult
    try {
      const outcome = await searchCapacity(this.prepared.bounds, (rate) => this.probe(rate), {
        now,
        stopped: () => this.stopRequested,
      })
      result = buildResult(outcome, this.points, this.prepared.bounds, now() - started)
      this.status =
        outcome.status === 'stopped' ? 'stopped' : outcome.status === 'error' ? 'failed' : 'completed'
    } catch (err) {
      this.error = describeError(err)
      this.status = 'failed'
      result = buildResult(
        { status: 'error', sustained: null, failing: null },
        this.points,
        this.prepared.bounds,
        now() - started,
      )
    }
    if (this.status === 'failed' && this.error && result.status === 'error')
      result.message += ` (${this.error})`
    this.result = result
    try {
      this.deps.store?.finishSearch(this.id, {
        status: this.status,
        endedAt: Date.now(),
        result,
        error: this.status === 'failed' ? (this.error ?? result.message) : null,
      })
    } catch (err) {
      this.deps.logger.error('store write failed', { search: this.id, error: describeError(err) })
    }
    return result
  }
}

/**
 * CPU cores this process uses while `sending()` holds, sampled every second: how close the
 * generator (one event loop, so at most about one core) came to saturation during the schedule.
 */
function cpuWhileSending(sending: () => boolean): { stop(): number | undefined } {
  let usedUs = 0
  let wallMs = 0
  let last = { cpu: process.cpuUsage(), at: performance.now() }
  const timer = setInterval(() => {
    const now = { cpu: process.cpuUsage(), at: performance.now() }
    if (sending()) {
      usedUs += now.cpu.user - last.cpu.user + now.cpu.system - last.cpu.system
      wallMs += now.at - last.at
    }
    last = now
  }, 1000)
  timer.unref()
  return {
    stop: () => {
      clearInterval(timer)
      return wallMs > 0 ? usedUs / 1000 / wallMs : undefined
    },
  }
}
