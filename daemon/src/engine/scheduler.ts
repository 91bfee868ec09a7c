import { type ClockTimer, type EngineClock, systemClock } from './clock.ts'
import { countInShard, type DeviceShard, nextInShard } from './device-shard.ts'
import { RateCurve } from './rate-curve.ts'

/** Open-loop schedule for a fleet: who sends when. */
export interface ScheduleOptions {
  /** µs since the epoch of send #0. */
  startUs: number
  /** Fleet-wide sends per second, constant; give this or `curve`. */
  totalRate?: number
  /** The rate over time, from `startUs` (stages); wins over `totalRate`. Its end also ends the schedule. */
  curve?: RateCurve
  devices: number
  /** Sends whose intended time is at or after this are not made. */
  endUs: number
  /**
   * Shortest time between two turns (µs): a turn sends everything due by then, so at high rates
   * sends are batched (one socket write per connection per turn) instead of one wake per message.
   * 0 gives every send a turn of its own. @default 0
   */
  resolutionUs?: number
  /** Most sends made in one turn before yielding to I/O when behind. @default 2000 */
  maxBurst?: number
  /**
   * Fire only this slice of the fleet's sends (a worker thread's devices), on the fleet's schedule;
   * `devices` is then the fleet's size and the device index passed to `fire` is within the shard.
   */
  shard?: DeviceShard
}

/** Called for each send: device index, its seq, the intended µs time. */
export type FireFn = (device: number, seq: number, intendedUs: number) => void

/**
 * Open-loop scheduler. Send i is due when the integral of the rate reaches i (`start + i/rate` at a
 * constant rate), for device `i mod N` with seq `floor(i/N)`: each device sends every N-th send
 * of the fleet, its phase spread evenly across the fleet's period, so devices never fire in bursts,
 * on a ramp too. It never "sleeps after work": when behind it catches up (yielding to I/O every
 * `maxBurst` sends) and the caller records the lag against the intended time.
 */
export class OpenLoopScheduler {
  /** The fleet's next send index (a shard skips the other shards' sends). */
  private i = 0
  private fired = 0
  private readonly total: number
  /** The rate over time, from `startUs`. */
  readonly curve: RateCurve
  private timer: ClockTimer | undefined
  /** When the last turn ran (µs). */
  private lastTickUs = 0
  private stopped = false
  private resolveDone!: () => void
  /** Resolves after the last send was made, or after `stop()`. */
  readonly done: Promise<void>

  constructor(
    private readonly opts: ScheduleOptions,
    private readonly fire: FireFn,
    private readonly clock: EngineClock = systemClock,
  ) {
    const spanUs = Math.max(0, opts.endUs - opts.startUs)
    if (opts.curve) this.curve = opts.curve
    else if (opts.totalRate !== undefined) this.curve = RateCurve.constant(opts.totalRate, spanUs)
    else throw new Error('OpenLoopScheduler needs totalRate or curve')
    // Sends whose intended time is at or after endUs are not made, whatever the curve says.
    this.total =
      this.curve.durationUs <= spanUs
        ? this.curve.planned
        : Math.min(this.curve.planned, this.curve.dueBy(spanUs - 1e-6))
    if (opts.shard) this.i = nextInShard(opts.shard, 0)
    this.done = new Promise((r) => {
      this.resolveDone = r
    })
  }

  /** Sends issued so far. */
  get issued(): number {
    return this.fired
  }

  /** Sends the schedule will issue in all. */
  get planned(): number {
    return this.opts.shard ? countInShard(this.opts.shard, this.total) : this.total
  }

  /** Sends due by now that have not been issued (how far behind the generator is). */
  backlog(now = this.clock.nowUs()): number {
    const due = Math.min(this.total, this.curve.dueBy(now - this.opts.startUs))
    return Math.max(0, (this.opts.shard ? countInShard(this.opts.shard, due) : due) - this.fired)
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
    const dueUs = this.opts.startUs + this.curve.timeOf(this.i)
    // The next turn starts when the next send is due, but not sooner than `resolutionUs` after this
    // one: at high rates a turn sends what fell due since (a batch) instead of waking per message.
    // The lateness shows, honestly, as send lag and in the corrected latency; the raw latency is
    // stamped at the real send. Behind (a burst cap, a slow turn): go on after pending I/O.
    const spacingUs = this.opts.resolutionUs ?? 0
    const waitUs = Math.ceil(Math.max(dueUs, this.lastTickUs + spacingUs) - this.clock.nowUs())
    this.timer = waitUs > 0 ? this.clock.setTimeoutUs(this.tick, waitUs) : this.clock.setImmediate(this.tick)
  }

  private readonly tick = (): void => {
    if (this.stopped) return
    const { startUs, devices, shard } = this.opts
    const from = shard?.from ?? 0
    const maxBurst = this.opts.maxBurst ?? 2000
    const now = this.clock.nowUs()
    this.lastTickUs = now
    let burst = 0
    try {
      while (this.i < this.total && burst < maxBurst) {
        const due = startUs + this.curve.timeOf(this.i)
        if (due > now) break
        const i = this.i
        this.i = shard ? nextInShard(shard, i + 1) : i + 1
        this.fired++
        this.fire((i % devices) - from, Math.floor(i / devices), Math.round(due))
        burst++
      }
    } finally {
      // A send that throws must not end the schedule (nor leave `done` unresolved for good).
      this.schedule()
    }
  }
}
