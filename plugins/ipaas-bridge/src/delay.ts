import { type DelayConfig, monoUs } from '@iotload/sdk'

/**
 * Compiles `bridge.delay` into a sampler returning µs (never negative), or `undefined` for none.
 * `random` is injectable so tests can pin the distribution.
 */
export function compileDelay(
  config: DelayConfig | undefined,
  random: () => number = Math.random,
): (() => number) | undefined {
  const sample = compileSampler(config, random)
  // A tail sample past setTimeout's range (2^31 − 1 ms) would fire at once; no delay is longer.
  return sample ? () => Math.min(MAX_DELAY_US, sample()) : undefined
}

/** setTimeout's longest wait, µs. */
const MAX_DELAY_US = (2 ** 31 - 1) * 1000

function compileSampler(config: DelayConfig | undefined, random: () => number): (() => number) | undefined {
  if (config === undefined) return undefined
  if (typeof config === 'number') {
    const us = config * 1000
    return us > 0 ? () => us : undefined
  }
  switch (config.distribution) {
    case 'fixed': {
      const us = config.value * 1000
      return () => us
    }
    case 'uniform': {
      const lo = Math.min(config.min, config.max) * 1000
      const span = Math.abs(config.max - config.min) * 1000
      return () => lo + random() * span
    }
    case 'normal': {
      const mean = config.mean * 1000
      const sd = config.stddev * 1000
      return () => {
        // Box–Muller; 1 − u keeps log() away from 0.
        const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random())
        return Math.max(0, mean + sd * z)
      }
    }
    case 'exponential': {
      const mean = config.mean * 1000
      return () => -mean * Math.log(1 - random())
    }
  }
}

interface Entry {
  due: number
  order: number
  fn: () => void
}

/** Below this many µs to the next deadline the timer polls with setImmediate instead of setTimeout. */
const SPIN_WINDOW_US = 500

/**
 * Runs callbacks after µs delays without blocking the event loop and with less than
 * setTimeout's millisecond rounding: a setTimeout to the nearest millisecond, then, if that was
 * early, setImmediate polls (yielding to I/O between polls) until the deadline. All pending delays share one timer,
 * kept in a min-heap by deadline, so a thousand in-flight messages cost one timer, not a thousand.
 */
export class DelayTimer {
  private readonly heap: Entry[] = []
  private order = 0
  private timeout: NodeJS.Timeout | undefined
  private immediate: NodeJS.Immediate | undefined

  /** Pending callbacks. */
  get size(): number {
    return this.heap.length
  }

  /** Calls `fn` once `delayUs` have passed (measured on the monotonic clock). */
  after(delayUs: number, fn: () => void): void {
    const e: Entry = { due: monoUs() + delayUs, order: this.order++, fn }
    this.push(e)
    // Only a new earliest deadline moves the wake-up; otherwise the armed timer already covers it.
    if (this.heap[0] === e) this.rearm()
  }

  /** Drops every pending callback and timer. */
  clear(): void {
    this.heap.length = 0
    this.disarm()
  }

  private readonly fire = (): void => {
    this.timeout = undefined
    this.immediate = undefined
    const now = monoUs()
    while (this.heap.length > 0 && this.heap[0]!.due <= now) {
      const e = this.pop()!
      e.fn()
    }
    this.rearm()
  }

  private disarm(): void {
    if (this.timeout) clearTimeout(this.timeout)
    if (this.immediate) clearImmediate(this.immediate)
    this.timeout = undefined
    this.immediate = undefined
  }

  private rearm(): void {
    this.disarm()
    const head = this.heap[0]
    if (!head) return
    const wait = head.due - monoUs()
    // setTimeout counts whole milliseconds: round to the nearest one and poll only what is left
    // when it fires early. Polling longer would make the process a CPU hog, which a loaded
    // scheduler punishes with late wake-ups; sleeping keeps the wake-up priority.
    if (wait >= SPIN_WINDOW_US) this.timeout = setTimeout(this.fire, Math.round(wait / 1000))
    else this.immediate = setImmediate(this.fire)
  }

  private less(a: Entry, b: Entry): boolean {
    return a.due < b.due || (a.due === b.due && a.order < b.order)
  }

  private push(e: Entry): void {
    const h = this.heap
    h.push(e)
    let i = h.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!this.less(h[i]!, h[p]!)) break
      ;[h[i], h[p]] = [h[p]!, h[i]!]
      i = p
    }
  }

  private pop(): Entry | undefined {
    const h = this.heap
    const top = h[0]
    const last = h.pop()
    if (h.length > 0 && last) {
      h[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r
        if (m === i) break
        ;[h[i], h[m]] = [h[m]!, h[i]!]
        i = m
      }
    }
    return top
  }
}
