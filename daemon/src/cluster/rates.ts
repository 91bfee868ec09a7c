import { ratePerSecond } from '../engine/summary.ts'
import type { ProducerReport } from './producer-task.ts'

/** A consumer daemon's final report: the window its first arrivals of measured messages spanned. */
export interface ConsumerWindow {
  firstRecvUs?: number
  lastRecvUs?: number
}

/**
 * The cluster's send rate: the producers send over the same schedule at once, so their measured
 * rates add up. Falls back to sent / duration when a producer did not measure one (it failed).
 */
export function clusterSendRate(
  reports: ReadonlyMap<string, ProducerReport>,
  sent: number,
  durationS: number,
): number {
  const rates = [...reports.values()].map((r) => r.sendRate)
  const total =
    rates.length > 0 && rates.every((x) => x !== undefined)
      ? rates.reduce((a: number, x) => a + (x as number), 0)
      : sent / durationS
  return Math.round(total * 10) / 10
}

/**
 * First arrivals per second over the time they took to arrive across all consumer daemons (the
 * earliest first arrival to the latest last one), never less than the duration, as on one daemon.
 * A consumer that died has no final report; the survivors' windows are used.
 */
export function clusterReceiveRate(
  consumers: ReadonlyMap<string, ConsumerWindow>,
  received: number,
  durationS: number,
): number {
  let first = Number.POSITIVE_INFINITY
  let last = 0
  for (const c of consumers.values()) {
    if (!c.firstRecvUs || !c.lastRecvUs) continue
    first = Math.min(first, c.firstRecvUs)
    last = Math.max(last, c.lastRecvUs)
  }
  return Math.round(ratePerSecond(received, durationS, first, last) * 10) / 10
}
