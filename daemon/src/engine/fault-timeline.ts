import type { Logger } from '../log/logger.ts'
import type { FaultStep, HookStep, OutageDetection } from '../scenario/faults-schema.ts'
import type { Scenario } from '../scenario/schema.ts'
import type { ClockTimer, EngineClock } from './clock.ts'
import { type ExecOutcome, runExec } from './fault-exec.ts'
import {
  detectOutages,
  type FaultSecond,
  type RecoveryFigures,
  type RecoveryInput,
  recoveryFigures,
} from './fault-recovery.ts'
import type { SecondReport } from './recorder.ts'

/** One command's record: which list it came from, and what it did (times µs since the epoch). */
export interface ExecRecord extends ExecOutcome {
  kind: 'fault' | 'setup' | 'teardown'
  index: number
  name: string
  command: string
  /** Faults: when it was planned, seconds since the schedule started. */
  atS?: number
}

/** A fault of the scenario, or an outage iotload noticed, with its recovery figures. */
export interface FaultReport extends RecoveryFigures {
  kind: 'fault' | 'outage'
  name: string
  /** When it began, seconds since the schedule started. */
  atS: number
  /** The command (faults only): exit status, duration, whether it was killed at its timeout. */
  exec?: Pick<ExecOutcome, 'exitCode' | 'signal' | 'durationMs' | 'timedOut'> & { error?: string }
}

/** `summary.faults`: the timeline's commands and what each fault and outage cost. */
export interface FaultsSummary {
  faults: FaultReport[]
  outages: FaultReport[]
  /** setup/teardown commands that did not exit 0 (the full records are in the store). */
  hookFailures: Array<{ kind: 'setup' | 'teardown'; index: number; name: string; exitCode: number | null }>
}

/** Seconds of latency kept before a fault or a short second: the "before" of p99 before/during. */
const KEEP_BEFORE_S = 5

const nameOf = (s: HookStep) => s.name ?? (s.exec.length > 60 ? `${s.exec.slice(0, 57)}…` : s.exec)

/** A short, stable cause for a failed publish: the error code and what the client said, without topics. */
export function publishErrorCause(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown; cause?: { code?: unknown; message?: unknown } } | null
  const code = typeof e?.code === 'string' ? e.code : err instanceof Error ? err.name : 'error'
  const inner = e?.cause
  const text =
    typeof inner?.code === 'string'
      ? inner.code
      : typeof inner?.message === 'string'
        ? inner.message
        : typeof e?.message === 'string'
          ? e.message
          : String(err)
  const cleaned = text
    .replace(/^\[[^\]]*\]\s*/, '')
    .replace(/'[^']*'/g, "'…'")
    .replace(/^[\w./{}+#-]+:\s+/, '')
  return `${code}: ${cleaned.slice(0, 80)}`
}

/**
 * A run's fault timeline. Without a consumer every second looks empty: outages are told only
 * where arrivals are measured.
 */
export function runFaultTimeline(
  s: Scenario,
  clock: EngineClock,
  logger: Logger,
  scrub: (text: string) => string,
): FaultTimeline {
  const outages = { ...s.outages, enabled: s.outages.enabled && s.consumer.enabled }
  return new FaultTimeline({ ...s, outages }, clock, logger, scrub)
}

/**
 * The scenario's `setup`, `faults` and `teardown` commands, and the events recovery is measured
 * from: connection changes and failed publishes with their times, and each second's counts.
 */
export class FaultTimeline {
  readonly records: ExecRecord[] = []
  private readonly seconds: FaultSecond[] = []
  private readonly disconnects: Array<{ tUs: number }> = []
  private readonly reconnects: Array<{ tUs: number }> = []
  private readonly errors: Array<{ tUs: number; cause: string; n: number }> = []
  private readonly timers: ClockTimer[] = []
  private readonly running: Array<Promise<void>> = []
  private setupRan = false
  /** Indexes of `seconds` whose histograms stay (see keepHistogramsNear). */
  private readonly keep = new Set<number>()

  constructor(
    private readonly steps: {
      faults?: readonly FaultStep[] | undefined
      setup?: readonly HookStep[] | undefined
      teardown?: readonly HookStep[] | undefined
      outages: OutageDetection
    },
    private readonly clock: EngineClock,
    private readonly logger: Logger,
    /** Removes secrets from captured output before it is kept. */
    private readonly scrub: (text: string) => string,
  ) {}

  /** Whether the scenario has anything for this timeline to do or report. */
  get active(): boolean {
    return (this.steps.faults?.length ?? 0) > 0 || this.steps.outages.enabled
  }

  private async exec(
    kind: ExecRecord['kind'],
    index: number,
    step: HookStep,
    atS?: number,
  ): Promise<ExecRecord> {
    const name = nameOf(step)
    this.logger.info(`${kind} command starts`, { name })
    const outcome = await runExec(step.exec, step.timeout, () => this.clock.nowUs())
    const record: ExecRecord = {
      kind,
      index,
      name,
      command: step.exec,
      ...(atS !== undefined ? { atS } : {}),
      ...outcome,
      output: this.scrub(outcome.output),
    }
    this.records.push(record)
    const fields = { name, exitCode: outcome.exitCode, durationMs: outcome.durationMs }
    if (outcome.exitCode === 0) this.logger.info(`${kind} command done`, fields)
    else this.logger.warn(`${kind} command failed`, { ...fields, timedOut: outcome.timedOut })
    return record
  }

  /** Runs `setup` in order; throws naming the first command that did not exit 0. */
  async setup(): Promise<void> {
    this.setupRan = true
    for (const [i, step] of (this.steps.setup ?? []).entries()) {
      const r = await this.exec('setup', i, step)
      if (r.exitCode !== 0)
        throw new Error(
          `setup[${i}] (${r.name}) ${r.timedOut ? 'timed out' : r.error ? `could not start: ${r.error}` : `exited ${r.exitCode ?? r.signal}`}${r.output ? `: ${r.output.trim().slice(-200)}` : ''}`,
        )
    }
  }

  /** Starts each fault at its time from `t0Us` (the schedule's start). */
  schedule(t0Us: number): void {
    for (const [i, f] of (this.steps.faults ?? []).entries()) {
      const fire = () => {
        this.running.push(this.exec('fault', i, f, f.at / 1000).then(() => undefined))
      }
      this.timers.push(this.clock.setTimeout(fire, (t0Us + f.at * 1000 - this.clock.nowUs()) / 1000))
    }
  }

  /** Drops the faults not started yet (a stopped or failed run). */
  cancel(): void {
    for (const t of this.timers) this.clock.clearTimer(t)
  }

  /** Waits for the faults already started (each is bounded by its timeout). */
  async settle(): Promise<void> {
    await Promise.all(this.running)
  }

  /** Runs `teardown` once `setup` ran (even after a failure); never throws. */
  async teardown(): Promise<void> {
    if (!this.setupRan) return
    for (const [i, step] of (this.steps.teardown ?? []).entries()) await this.exec('teardown', i, step)
  }

  onConnectionStatus(status: string): void {
    this.addConnectionEvent(status, this.clock.nowUs())
  }

  /** A connection change seen at `tUs` (in this thread, or posted by a run's worker thread). */
  addConnectionEvent(status: string, tUs: number): void {
    if (status === 'disconnected') this.disconnects.push({ tUs })
    else if (status === 'reconnected') this.reconnects.push({ tUs })
  }

  /** A publish made at `sentUs` failed. */
  onPublishError(err: unknown, sentUs: number): void {
    this.addPublishErrors(publishErrorCause(err), sentUs, 1)
  }

  /** `n` publishes made at `tUs` failed with `cause` (a worker thread posts them grouped). */
  addPublishErrors(cause: string, tUs: number, n: number): void {
    this.errors.push({ tUs, cause, n })
  }

  onSecond(r: SecondReport): void {
    const c = r.counters
    const e2e = r.streams.find((s) => s.stream === 'e2e')?.snapshot
    const seconds = this.seconds
    seconds.push({
      second: r.second,
      warmup: r.warmup,
      sent: c.sent + c.sentWarmup,
      received: c.received + c.receivedWarmup,
      duplicates: c.duplicates,
      disconnects: c.disconnects,
      target: r.targetRate ?? 0,
      e2eHist: e2e && e2e.raw.count > 0 ? e2e.rawHist : undefined,
    })
    this.keepHistogramsNear(seconds.length - 1)
  }

  /**
   * A week-long run must not hold a week of histograms: a second's e2e histogram is kept only
   * near a fault, or near a second that fell short or lost connections (a possible outage), with
   * the BEFORE_SECONDS before it as the latency baseline.
   */
  private keepHistogramsNear(i: number): void {
    const s = this.seconds[i]!
    const suspicious = (s.target > 0 && s.received < 0.95 * s.target) || s.disconnects > 0
    const nearFault = (this.steps.faults ?? []).some(
      (f) =>
        s.second * 1000 >= f.at - (KEEP_BEFORE_S + 1) * 1000 && s.second * 1000 <= f.at + f.timeout + 1000,
    )
    if (suspicious || nearFault) for (let k = Math.max(0, i - KEEP_BEFORE_S); k <= i; k++) this.keep.add(k)
    const leaving = i - KEEP_BEFORE_S - 1
    const old = this.seconds[leaving]
    if (old && !this.keep.has(leaving)) old.e2eHist = undefined
  }

  /** Each fault's and outage's figures, once the run closed. */
  summarize(
    input: Omit<RecoveryInput, 'seconds' | 'disconnects' | 'reconnects' | 'publishErrors'>,
  ): FaultsSummary {
    // A sharded run's workers post their events second by second, interleaved: recovery reads
    // them in time order ("the first reconnect after …").
    for (const events of [this.disconnects, this.reconnects, this.errors])
      events.sort((a, b) => a.tUs - b.tUs)
    const inp: RecoveryInput = {
      ...input,
      seconds: this.seconds,
      disconnects: this.disconnects,
      reconnects: this.reconnects,
      publishErrors: this.errors,
    }
    const started = this.records.filter((r) => r.kind === 'fault').sort((a, b) => a.startUs - b.startUs)
    const faults: FaultReport[] = started.map((r, i) => ({
      kind: 'fault',
      name: r.name,
      atS: Math.round(((r.startUs - input.t0Us) / 1e6) * 10) / 10,
      exec: {
        exitCode: r.exitCode,
        signal: r.signal,
        durationMs: r.durationMs,
        timedOut: r.timedOut,
        ...(r.error ? { error: r.error } : {}),
      },
      ...recoveryFigures(r.startUs, r.endUs, {
        ...inp,
        ...(started[i + 1] ? { nextStartUs: started[i + 1]!.startUs } : {}),
      }),
    }))
    const o = this.steps.outages
    const outages: FaultReport[] = o.enabled
      ? detectOutages(inp, {
          receivedBelow: o.receivedBelow,
          disconnects: o.disconnects,
          covered: faults.map((f) => ({ fromS: Math.floor(f.atS), toS: f.window.toS })),
        }).map((s) => {
          const startUs = input.t0Us + s * 1e6
          // Sharper than the second: the first connection lost in it, when one was.
          const drop = this.disconnects.find((d) => d.tUs >= startUs && d.tUs < startUs + 1e6)
          const from = drop?.tUs ?? startUs
          return {
            kind: 'outage' as const,
            name: `outage at ${Math.round(((from - input.t0Us) / 1e6) * 10) / 10}s`,
            atS: Math.round(((from - input.t0Us) / 1e6) * 10) / 10,
            ...recoveryFigures(from, from, inp),
          }
        })
      : []
    const hookFailures = this.records
      .filter((r): r is ExecRecord & { kind: 'setup' | 'teardown' } => r.kind !== 'fault' && r.exitCode !== 0)
      .map((r) => ({ kind: r.kind, index: r.index, name: r.name, exitCode: r.exitCode }))
    return { faults, outages, hookFailures }
  }
}
