import { nowUs } from '@iotload/sdk'
import type { ClockTimer, EngineClock } from '../clock.ts'

interface Pending {
  dueUs: number
  fn: () => void
  cancelled: boolean
}

/** One real turn of the event loop: promise callbacks, I/O and in-process brokers run. */
const realTurn = () => new Promise<void>((resolve) => setImmediate(resolve))

/** Options for `ManualClock`. */
export interface ManualClockOptions {
  /** The initial time, µs since the epoch. @default the real time now, so stamps stay plausible */
  startUs?: number
  /**
   * How long one turn of the event loop takes: an immediate fires this long after it was set, so
   * a busy wait (the scheduler's sub-millisecond catch-up) reaches its deadline in a few steps.
   * @default 20
   */
  turnUs?: number
}

/**
 * An `EngineClock` that moves only when told to: a test sets the time, and timers fire in due
 * order as it advances. `advance` is synchronous; `advanceAsync` and `autoAdvance` yield to the
 * real event loop between timers, so publishes, acknowledgements and deliveries through the
 * in-process memory broker happen "between ticks" as they would in a run.
 *
 * @example
 * const clock = new ManualClock()
 * const s = new OpenLoopScheduler({ startUs: clock.nowUs(), ... }, fire, clock)
 * s.start()
 * clock.advance(100) // 100 ms of schedule, in no time
 */
export class ManualClock implements EngineClock {
  private now: number
  private readonly turnUs: number
  /** Sorted by due time, then by the order they were set, like Node's timer lists. */
  private timers: Pending[] = []

  constructor(options: ManualClockOptions = {}) {
    this.now = options.startUs ?? Math.round(nowUs())
    this.turnUs = options.turnUs ?? 20
  }

  nowUs(): number {
    return this.now
  }

  setTimeout(fn: () => void, ms: number): ClockTimer {
    return this.insert(this.now + Math.max(0, ms) * 1000, fn)
  }

  setTimeoutUs(fn: () => void, us: number): ClockTimer {
    return this.insert(this.now + Math.max(0, us), fn)
  }

  setImmediate(fn: () => void): ClockTimer {
    return this.insert(this.now + this.turnUs, fn)
  }

  clearTimer(timer: ClockTimer | undefined): void {
    if (timer !== undefined) (timer as Pending).cancelled = true
  }

  /** Timers waiting to fire. */
  get pending(): number {
    return this.timers.filter((t) => !t.cancelled).length
  }

  /** Moves the time forward by `ms` without firing anything: the event loop was blocked. */
  block(ms: number): void {
    this.now += ms * 1000
  }

  /**
   * Moves the time forward by `ms`, firing every timer due on the way, in order, each at its due
   * time. A timer that throws ends the call with its error (as an uncaught exception would end a
   * tick); the clock stays where that timer was due and can be advanced further.
   */
  advance(ms: number): void {
    const target = this.now + ms * 1000
    for (let n = 0; this.fireNext(target); n++) guard(n)
    this.now = Math.max(this.now, target)
  }

  /** As `advance`, but with a real event-loop turn after every firing. */
  async advanceAsync(ms: number): Promise<void> {
    const target = this.now + ms * 1000
    await realTurn()
    for (let n = 0; this.fireNext(target); n++) {
      guard(n)
      await realTurn()
    }
    this.now = Math.max(this.now, target)
  }

  /** Fires only the next timer, jumping to its due time; false when none is set. */
  step(): boolean {
    const next = this.timers.find((t) => !t.cancelled)
    return next !== undefined && this.fireNext(next.dueUs)
  }

  /**
   * Runs the clock by itself until `stop()`: after a few real event-loop turns it jumps to the next
   * timer and fires it, so a run of many simulated seconds takes milliseconds. While no timer is
   * set (connecting, say) it waits 1 ms of real time.
   */
  autoAdvance(settleTurns = 3): { stop(): Promise<void> } {
    let running = true
    let failure: { error: unknown } | undefined
    const loop = (async () => {
      while (running) {
        for (let i = 0; i < settleTurns; i++) await realTurn()
        if (!running) break
        try {
          if (!this.step()) await new Promise((r) => setTimeout(r, 1))
        } catch (error) {
          failure ??= { error }
        }
      }
    })()
    return {
      /** Stops advancing; rejects with the first error a timer threw meanwhile. */
      stop: async () => {
        running = false
        await loop
        if (failure) throw failure.error
      },
    }
  }

  private insert(dueUs: number, fn: () => void): Pending {
    const t: Pending = { dueUs, fn, cancelled: false }
    let i = this.timers.length
    while (i > 0 && this.timers[i - 1]!.dueUs > dueUs) i--
    this.timers.splice(i, 0, t)
    return t
  }

  /** Fires the earliest timer if it is due by `limitUs`; false when none is. */
  private fireNext(limitUs: number): boolean {
    for (;;) {
      const next = this.timers[0]
      if (!next || next.dueUs > limitUs) return false
      this.timers.shift()
      if (next.cancelled) continue
      if (next.dueUs > this.now) this.now = next.dueUs
      next.cancelled = true
      next.fn()
      return true
    }
  }
}

/** Stops a test whose timers keep rescheduling themselves without end. */
function guard(firings: number): void {
  if (firings > 10_000_000) throw new Error('ManualClock: more than 10 million timers fired in one advance')
}
