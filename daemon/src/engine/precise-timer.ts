import { Worker } from 'node:worker_threads'

/**
 * Sub-millisecond timers without a busy loop. Node's timers have millisecond resolution (a 1 ms
 * timer fires 1–2 ms later), and waiting turn by turn with setImmediate keeps a core busy while
 * idle: on a quiet 2-core machine that spin cost 49 µs of CPU per message at 20k msg/s (against
 * 12 µs with a 1 ms timer) and took a core from the broker under test.
 *
 * Here one parked thread per JavaScript realm sleeps on a futex (`Atomics.wait` with a timeout)
 * until the earliest deadline and wakes the event loop with one message: ~80 µs late here (the
 * kernel's default timer slack is 50 µs), no CPU while waiting. Waits of 2 ms and more sleep in a
 * Node timer first and take the thread only for their last 2 ms. Where a thread cannot start (and
 * under Bun), a Node timer does the whole wait: up to ~1 ms late, never early, never a spin.
 */

/** A pending precise timer; opaque to callers. */
export interface PreciseTimer {
  readonly dueUs: number
  readonly fn: () => void
  cancelled: boolean
  /** The Node timer that covers the coarse part of a long wait. */
  coarse?: NodeJS.Timeout
}

/** Monotonic µs, the same clock in every thread of the process. */
const monoUs = (): number => Number(process.hrtime.bigint() / 1000n)

/** Below this, a Node timer would overshoot; the thread takes the wait. */
const COARSE_FLOOR_US = 2000

// The thread: sleeps until slot 1's deadline (monotonic µs, 0 = none), woken early when slot 0's
// generation changes; posts one message per deadline reached. CommonJS source, so it runs the
// same under Node and Bun and needs no file of its own.
const THREAD_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads')
const gen = new Int32Array(workerData, 0, 1)
const deadline = new Float64Array(workerData, 8, 1)
const monoUs = () => Number(process.hrtime.bigint() / 1000n)
for (;;) {
  const g = Atomics.load(gen, 0)
  const d = deadline[0]
  if (d === 0) { Atomics.wait(gen, 0, g); continue }
  const waitMs = (d - monoUs()) / 1000
  if (waitMs > 0 && Atomics.wait(gen, 0, g, waitMs) !== 'timed-out') continue
  if (Atomics.load(gen, 0) !== g) continue
  deadline[0] = 0
  parentPort.postMessage(0)
}
`

/** Wakes the queue at a deadline (monotonic µs; 0 = none). */
interface Waker {
  wakeAt(us: number): void
}

/** The futex-sleeping thread (see above). */
class ThreadWaker implements Waker {
  private readonly gen: Int32Array
  private readonly deadline: Float64Array
  private readonly worker: Worker
  private armedUs = 0
  private referenced = false

  constructor(onWake: () => void, onError: () => void) {
    const shared = new SharedArrayBuffer(16)
    this.gen = new Int32Array(shared, 0, 1)
    this.deadline = new Float64Array(shared, 8, 1)
    this.worker = new Worker(THREAD_SOURCE, { eval: true, workerData: shared })
    this.worker.unref()
    this.worker.on('message', () => {
      this.armedUs = 0
      onWake()
    })
    this.worker.on('error', onError)
  }

  wakeAt(us: number): void {
    // A pending deadline keeps the process alive, as a Node timer would; none lets it exit.
    if (us === 0 && this.referenced) this.worker.unref()
    else if (us !== 0 && !this.referenced) this.worker.ref()
    this.referenced = us !== 0
    if (us === this.armedUs) return
    this.armedUs = us
    this.deadline[0] = us
    Atomics.add(this.gen, 0, 1)
    Atomics.notify(this.gen, 0)
  }
}

/** Node's own timer: up to ~1 ms late, never early, never 0 ms (that would make a wait a spin). */
class NodeTimerWaker implements Waker {
  private timer: NodeJS.Timeout | undefined
  private armedUs = 0

  constructor(private readonly onWake: () => void) {}

  wakeAt(us: number): void {
    if (us === this.armedUs) return
    clearTimeout(this.timer)
    this.timer = undefined
    this.armedUs = us
    if (us === 0) return
    this.timer = setTimeout(
      () => {
        this.armedUs = 0
        this.onWake()
      },
      Math.max(1, Math.ceil((us - monoUs()) / 1000)),
    )
  }
}

/** The realm's pending precise timers, in due order, woken by one waker. */
class TimerQueue {
  /** Sorted by due time; cancelled entries are dropped as they reach the front. */
  private pending: PreciseTimer[] = []
  private waker: Waker

  constructor() {
    this.waker = TimerQueue.startWaker(this.fireDue, () => {
      this.waker = new NodeTimerWaker(this.fireDue)
      this.arm()
    })
  }

  /**
   * Bun delivers a message from a thread that never returns to its event loop ~10 ms late
   * (measured with Bun 1.4: the futex wait itself was on time), so Bun gets Node-style timers.
   */
  private static startWaker(onWake: () => void, onError: () => void): Waker {
    if (!process.versions.bun) {
      try {
        return new ThreadWaker(onWake, onError)
      } catch {
        // No threads here: Node timers do.
      }
    }
    return new NodeTimerWaker(onWake)
  }

  add(t: PreciseTimer): void {
    let i = this.pending.length
    while (i > 0 && this.pending[i - 1]!.dueUs > t.dueUs) i--
    this.pending.splice(i, 0, t)
    if (i === 0) this.arm()
  }

  private arm(): void {
    while (this.pending[0]?.cancelled) this.pending.shift()
    this.waker.wakeAt(this.pending[0]?.dueUs ?? 0)
  }

  private readonly fireDue = (): void => {
    const now = monoUs()
    const due: PreciseTimer[] = []
    while (this.pending.length > 0 && this.pending[0]!.dueUs <= now) due.push(this.pending.shift()!)
    this.arm()
    for (const t of due) {
      if (t.cancelled) continue
      t.cancelled = true
      t.fn()
    }
  }
}

/** The realm's queue, started on first use. */
let queue: TimerQueue | undefined

/** Calls `fn` once, `us` µs from now (clamped to ≥ 0), to within ~0.1 ms. */
export function setPreciseTimeout(fn: () => void, us: number): PreciseTimer {
  const t: PreciseTimer = { dueUs: monoUs() + Math.max(0, us), fn, cancelled: false }
  queue ??= new TimerQueue()
  const th = queue
  if (us < COARSE_FLOOR_US) th.add(t)
  else {
    // Sleep the bulk in a Node timer (it may fire up to ~2 ms late), then hand the rest to the thread.
    t.coarse = setTimeout(
      () => {
        if (!t.cancelled) th.add(t)
      },
      Math.floor(us / 1000) - 2,
    )
  }
  return t
}

/** Cancels a precise timer; fired and cancelled ones are ignored. */
export function clearPreciseTimeout(t: PreciseTimer | undefined): void {
  if (!t) return
  t.cancelled = true
  if (t.coarse) clearTimeout(t.coarse)
}
