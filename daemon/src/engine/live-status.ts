import type { RunStatus } from '../store/result-store.ts'
import type { ConnectSnapshot } from './connect-progress.ts'
import type { SecondReport } from './recorder.ts'

/** The last completed second, as the live view shows it (µs; null without samples). */
export interface LastSecond {
  second: number
  warmup: boolean
  sent: number
  received: number
  p50Us: number | null
  p99Us: number | null
}

/** Live view of a run, for progress lines and the API. Fields after `invalid` are optional for views built elsewhere (cluster). */
export interface LiveStatus {
  id: string
  status: RunStatus
  second: number
  sent: number
  received: number
  gaps: number
  invalid: number
  /** A stop was asked for; the run is finishing its current second and draining. */
  stopping?: boolean
  /** Seconds since the schedule started (warm-up included); 0 while connecting. */
  elapsedS?: number
  /** Seconds of schedule left (warm-up + duration − elapsed); null while connecting. */
  remainingS?: number | null
  /** Fleet-wide target send rate, messages per second. */
  targetRate?: number
  lastSecond?: LastSecond | null
  /** The fleet's connect phase (also after it, with its final figures); null before it began. */
  connect?: ConnectSnapshot | null
}

/** The figures of a second report the live view keeps. */
export function lastSecondOf(r: SecondReport): LastSecond {
  const e2e = r.streams.find((s) => s.stream === 'e2e')?.snapshot.raw
  const c = r.counters
  return {
    second: r.second,
    warmup: r.warmup,
    sent: c.sent + c.sentWarmup,
    received: c.received + c.receivedWarmup,
    p50Us: e2e && e2e.count > 0 ? e2e.p50 : null,
    p99Us: e2e && e2e.count > 0 ? e2e.p99 : null,
  }
}

/** Elapsed and remaining schedule time, from the schedule's start (µs) and its length (ms). */
export function scheduleTimes(
  t0Us: number | null,
  nowUs: number,
  scheduleMs: number,
): { elapsedS: number; remainingS: number | null } {
  if (t0Us === null) return { elapsedS: 0, remainingS: null }
  const elapsedS = Math.max(0, (nowUs - t0Us) / 1e6)
  return {
    elapsedS: Math.round(elapsedS * 10) / 10,
    remainingS: Math.round(Math.max(0, scheduleMs / 1000 - elapsedS) * 10) / 10,
  }
}
