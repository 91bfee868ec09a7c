import { type ClockTimer, type EngineClock, systemClock } from './clock.ts'

/** Open-loop schedule for a fleet: who sends when. */
export interface ScheduleOptions {
  /** µs since the epoch of send #0. */
  startUs: number
  /** Fleet-wide sends per second. */
  totalRate: number
  devices: number
  /** Sends whose intended time is at or after this are not made. */
  endUs: number
  /** Most sends made in one turn before yielding to I/O when behind. @default 2000 */
  maxBurst?: number
}

/** Called for each send: device index, its seq, the intended µs time. */
export type FireFn = (device: number, seq: number, intendedUs: number) => void

/**
 * Open-loop scheduler. Send i is due at `start + i/rate`, for device `i mod N` with seq
 * `floor(i/N)`: each device sends at its own rate with its phase spread evenly across the period,
 * so devices never fire in bursts. It never "sleeps after work": when behind it catches up
 * (yielding to I/O every `maxBurst` sends) and the caller records the lag against the intended time.
 */
export class OpenLoopScheduler {
  private i = 0
  private readonly total: number
  private readonly intervalUs: number
  private timer: ClockTimer | undefined
  private stopped = false
  private resolveDone!: () => void
  /** Resolves after the last send was made, or after `stop()`. */
  readonly done: Promise<void>

  constructor(
    private readonly opts: ScheduleOptions,
    private readonly fire: FireFn,
    private readonly clock: EngineClock = systemClock,
  ) {
    this.intervalUs = 1e6 / opts.totalRate
    this.total = Math.max(0, Math.ceil(((opts.endUs - opts.startUs) * opts.totalRate) / 1e6 - 1e-9))
    this.done = new Promise((r) => {
      this.resolveDone = r
    })
  }

  /** Sends issued so far. */
  get issued(): number {
    return this.i
  }

  /** Sends the schedule will issue in all. */
  get planned(): number {
    return this.total
  }

  /** Sends due by now that have not been issued (how far behind the generator is). */
  backlog(now = this.clock.nowUs()): number {
    const due = Math.min(this.total, Math.floor((now - this.opts.startUs) / this.intervalUs) + 1)
    return Math.max(0, due - this.i)
  }

  start(): void {
    this.schedule()
  }

  stop(): void {
    if (this.stopped) return
    this.stopped = true
    this.clock.clearTimer(this.timer)
    this.resolveDone()
  }

  private schedule(): void {
    if (this.stopped) return
    if (this.i >= this.total) {
      this.stop()
      return
    }
    const dueUs = this.opts.startUs + this.i * this.intervalUs
    const waitMs = (dueUs - this.clock.nowUs()) / 1000
    this.timer =
      waitMs >= 1 ? this.clock.setTimeout(this.tick, Math.floor(waitMs)) : this.clock.setImmediate(this.tick)
  }

  private readonly tick = (): void => {
    if (this.stopped) return
    const { startUs, devices } = this.opts
    const maxBurst = this.opts.maxBurst ?? 2000
    const now = this.clock.nowUs()
    let burst = 0
    try {
      while (this.i < this.total && burst < maxBurst) {
        const due = startUs + this.i * this.intervalUs
        if (due > now) break
        const i = this.i++
        this.fire(i % devices, Math.floor(i / devices), Math.round(due))
        burst++
      }
    } finally {
      // A send that throws must not end the schedule (nor leave `done` unresolved for good).
      this.schedule()
    }
  }
}
