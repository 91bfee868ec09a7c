import { mergeEncoded } from './histogram.ts'

/** What the fault figures need of one second of the run (all arrivals, warm-up included). */
export interface FaultSecond {
  second: number
  warmup: boolean
  sent: number
  received: number
  duplicates: number
  disconnects: number
  /** Sends the schedule planned in the second. */
  target: number
  /** Encoded raw e2e histogram of the second's arrivals (absent when none). */
  e2eHist?: string | undefined
}

/** A connection event or a failed publish, with its time (µs since the epoch). */
export interface TimedEvent {
  tUs: number
}

/** Received rate counted as recovered: this share of the second's target. */
export const RECOVERED_SHARE = 0.95
/** Sends this long before a fault began count as its own (they were in flight when it hit). */
export const IN_FLIGHT_US = 1_000_000
/** Seconds before a fault whose latency is its baseline. */
const BEFORE_SECONDS = 5

/** Recovery figures of one fault or outage. Times in ms since it began; latencies in µs. */
export interface RecoveryFigures {
  /** First connection lost after it began (ms), null when none was. */
  firstDisconnectMs: number | null
  /** First connection re-established after it began (ms), null when none was. */
  firstReconnectMs: number | null
  /**
   * Until the received rate was back to ≥ 95 % of target (ms, 1 s resolution: the start of the
   * first whole second at that rate that began after the last reconnect, so a replayed backlog
   * does not pass for recovery); 0 when it never fell below; null when it did not recover before
   * the schedule ended.
   */
  recoveryMs: number | null
  /**
   * The window sends are counted over, seconds since the schedule started: [from, to), from 1 s
   * before it began (what was in flight then) to its recovery. Arrivals
   * (duplicates, p99 during) are counted to the end of the first recovered second, where the
   * flush after a reconnect lands.
   */
  window: { fromS: number; toS: number }
  /** Sends intended inside the window, and how many of them never arrived (null: unknown without seqs). */
  sent: number
  lost: number | null
  /** Repeated arrivals during the window. */
  duplicates: number
  /** Publishes made inside the window that failed, by cause. */
  publishErrors: Record<string, number>
  /** e2e raw p99 over the 5 s before, and over the window; null without arrivals. */
  p99BeforeUs: number | null
  p99DuringUs: number | null
}

/** Inputs of `recoveryFigures`: the run's seconds and events, the schedule, and the loss oracle. */
export interface RecoveryInput {
  seconds: readonly FaultSecond[]
  disconnects: readonly TimedEvent[]
  reconnects: readonly TimedEvent[]
  /** Failed publishes: `n` of them at `tUs` (1 when absent). */
  publishErrors: ReadonlyArray<TimedEvent & { cause: string; n?: number }>
  /** µs since the epoch of second 0 of the schedule. */
  t0Us: number
  /** Seconds of the schedule (warm-up included). */
  scheduleSeconds: number
  /** When the next fault begins (µs): reconnects from then on are its own. */
  nextStartUs?: number
  /** Sends intended in [fromUs, toUs) and those of them never received. */
  lossBetween: (fromUs: number, toUs: number) => { sent: number; lost: number | null }
}

function p99Of(seconds: readonly FaultSecond[]): number | null {
  const hists = seconds.map((s) => s.e2eHist).filter((h): h is string => h !== undefined)
  if (hists.length === 0) return null
  const h = mergeEncoded(hists)
  return h.totalCount > 0 ? h.getValueAtPercentile(99) : null
}

const below = (s: FaultSecond, share: number) => s.target > 0 && s.received < share * s.target

/**
 * Recovery of the path from something that began at `startUs` (a fault command, or an outage's
 * first bad second), whose effects may start until `effectUntilUs` (the command's end).
 */
export function recoveryFigures(startUs: number, effectUntilUs: number, inp: RecoveryInput): RecoveryFigures {
  const { seconds, t0Us } = inp
  const secondOf = (tUs: number) => Math.floor((tUs - t0Us) / 1e6)
  const startS = secondOf(startUs)
  const inSchedule = seconds.filter((s) => s.second < inp.scheduleSeconds)
  // The dip: the first second short of target from the start until a second after the command ended.
  const lastDipS = Math.max(startS, secondOf(effectUntilUs) + 1)
  const dip = inSchedule.find((s) => s.second >= startS && s.second <= lastDipS && below(s, RECOVERED_SHARE))
  let recoveredS: number | undefined
  let recoveryMs: number | null = 0
  if (dip) {
    // Connections the fault dropped come back before the path counts as recovered.
    const lastReconnectUs = inp.reconnects.reduce(
      (m, e) =>
        e.tUs >= startUs && e.tUs < (inp.nextStartUs ?? Number.POSITIVE_INFINITY) ? Math.max(m, e.tUs) : m,
      startUs,
    )
    const firstAfterReconnect = Math.ceil((lastReconnectUs - t0Us) / 1e6)
    recoveredS = inSchedule.find(
      (s) => s.second > dip.second && s.second >= firstAfterReconnect && !below(s, RECOVERED_SHARE),
    )?.second
    recoveryMs = recoveredS === undefined ? null : Math.max(0, (t0Us + recoveredS * 1e6 - startUs) / 1000)
  }
  const endUs = dip
    ? t0Us + (recoveredS ?? inp.scheduleSeconds) * 1e6
    : Math.max(effectUntilUs, startUs + 1e6)
  const endS = Math.ceil((endUs - t0Us) / 1e6)
  const lastArrivalS = dip && recoveredS !== undefined ? recoveredS : Math.max(endS - 1, startS)
  const during = seconds.filter((s) => s.second >= startS && s.second <= lastArrivalS)
  const before = seconds.filter((s) => !s.warmup && s.second < startS && s.second >= startS - BEFORE_SECONDS)
  const firstAfter = (events: readonly TimedEvent[]) => {
    const e = events.find((x) => x.tUs >= startUs)
    return e ? Math.round((e.tUs - startUs) / 1000) : null
  }
  const errors: Record<string, number> = {}
  for (const e of inp.publishErrors)
    if (e.tUs >= startUs && e.tUs < endUs) errors[e.cause] = (errors[e.cause] ?? 0) + (e.n ?? 1)
  // What was in flight when it began is its loss too: sends from IN_FLIGHT_US before it.
  const fromUs = Math.max(t0Us, startUs - IN_FLIGHT_US)
  const { sent, lost } = inp.lossBetween(fromUs, endUs)
  return {
    firstDisconnectMs: firstAfter(inp.disconnects),
    firstReconnectMs: firstAfter(inp.reconnects),
    recoveryMs: recoveryMs === null ? null : Math.round(recoveryMs),
    window: { fromS: round1((fromUs - t0Us) / 1e6), toS: round1((endUs - t0Us) / 1e6) },
    sent,
    lost,
    duplicates: during.reduce((n, s) => n + s.duplicates, 0),
    publishErrors: errors,
    p99BeforeUs: p99Of(before),
    p99DuringUs: p99Of(during),
  }
}

const round1 = (x: number) => Math.round(x * 10) / 10

/** Where outage detection looks, and how a fault's window is known (seconds since t0). */
export interface OutageScan {
  receivedBelow: number
  disconnects: number
  /** Seconds already explained by the scenario's faults (their windows). */
  covered: ReadonlyArray<{ fromS: number; toS: number }>
}

/**
 * Seconds where the path broke without a fault of the scenario: arrivals under the threshold
 * share of target, or dropped connections. Returns each outage's first second; the seconds it
 * takes to recover are skipped, so one outage is reported once.
 */
export function detectOutages(inp: RecoveryInput, scan: OutageScan): number[] {
  const starts: number[] = []
  let resumeAt = -1
  const covered = (s: number) => scan.covered.some((w) => s + 1 > w.fromS && s < w.toS)
  for (const s of inp.seconds) {
    if (s.warmup || s.second >= inp.scheduleSeconds || s.second < resumeAt || covered(s.second)) continue
    if (below(s, scan.receivedBelow) || s.disconnects >= scan.disconnects) {
      starts.push(s.second)
      const rec = inp.seconds.find((x) => x.second > s.second && !below(x, RECOVERED_SHARE))
      resumeAt = rec ? rec.second + 1 : Number.POSITIVE_INFINITY
    }
  }
  return starts
}
