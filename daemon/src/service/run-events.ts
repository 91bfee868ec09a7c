import type { SecondReport } from '../engine/recorder.ts'
import { lastSecondOf } from '../engine/live-status.ts'

/** One per-second line of a run, as `iotload run` prints it and the events stream sends it. */
export interface SecondEvent {
  second: number
  warmup: boolean
  sent: number
  received: number
  p50Us: number | null
  p99Us: number | null
  /** Sequence gaps outstanding (lost, or still in flight). */
  gaps: number
  invalid: number
  publishErrors: number
  disconnects: number
  reconnects: number
}

/** What a run tells its listeners: each completed second, then its end. */
export type RunEvent = { type: 'second'; data: SecondEvent } | { type: 'end'; data: { status: string } }

type Listener = (event: RunEvent) => void

/** The per-second line of a report. */
export function secondEvent(r: SecondReport): SecondEvent {
  const c = r.counters
  const { second, warmup, sent, received, p50Us, p99Us } = lastSecondOf(r)
  return {
    second,
    warmup,
    sent,
    received,
    p50Us,
    p99Us,
    gaps: r.gaps,
    invalid: c.invalid,
    publishErrors: c.publishErrors,
    disconnects: c.disconnects,
    reconnects: c.reconnects,
  }
}

/** Fans a daemon's run events out to listeners (the events stream), per run id. */
export class RunEvents {
  private readonly listeners = new Map<string, Set<Listener>>()

  /** Listens to one run; returns the function that stops listening. */
  on(runId: string, listener: Listener): () => void {
    let set = this.listeners.get(runId)
    if (!set) {
      set = new Set()
      this.listeners.set(runId, set)
    }
    set.add(listener)
    return () => {
      set.delete(listener)
      if (set.size === 0 && this.listeners.get(runId) === set) this.listeners.delete(runId)
    }
  }

  /** Listeners of a run (tests, diagnostics). */
  count(runId: string): number {
    return this.listeners.get(runId)?.size ?? 0
  }

  emit(runId: string, event: RunEvent): void {
    for (const l of this.listeners.get(runId) ?? []) {
      try {
        l(event)
      } catch {
        // A listener's failure is its own; the run and the other listeners go on.
      }
    }
    if (event.type === 'end') this.listeners.delete(runId)
  }
}

/**
 * A queue of at most `capacity` items for one slow consumer: when full, the oldest item is dropped
 * and counted, so a client that stops reading costs bounded memory. `next()` waits for an item.
 */
export class BoundedQueue<T> {
  private readonly items: T[] = []
  private waiter: ((item: T | undefined) => void) | undefined
  private closed = false
  /** Items dropped because the queue was full. */
  dropped = 0

  constructor(readonly capacity: number) {}

  get length(): number {
    return this.items.length
  }

  push(item: T): void {
    if (this.closed) return
    if (this.waiter) {
      const w = this.waiter
      this.waiter = undefined
      w(item)
      return
    }
    if (this.items.length >= this.capacity) {
      this.items.shift()
      this.dropped++
    }
    this.items.push(item)
  }

  /** The next item, or undefined once closed and empty. */
  next(): Promise<T | undefined> {
    const item = this.items.shift()
    if (item !== undefined || this.closed) return Promise.resolve(item)
    return new Promise((resolve) => {
      this.waiter = resolve
    })
  }

  close(): void {
    this.closed = true
    const w = this.waiter
    this.waiter = undefined
    w?.(undefined)
  }
}
