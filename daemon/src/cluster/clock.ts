import { nowUs } from '@iotload/sdk'
import type { Redis } from 'ioredis'

/** A clock offset estimate: add `offsetUs` to a local timestamp to get the reference clock. */
export interface ClockEstimate {
  offsetUs: number
  /** Half the round trip of the best exchange: the true offset lies within offset ± uncertainty. */
  uncertaintyUs: number
  /** When it was measured (local µs). */
  atUs: number
}

/**
 * NTP-style exchange against the Redis server's clock (TIME): t1 local send, t2 = t3 server
 * stamp, t4 local receive; offset = ((t2 − t1) + (t3 − t4)) / 2, uncertainty = (t4 − t1) / 2.
 * The sample with the shortest round trip wins. Every daemon measures against the same server
 * clock, so the offset between two daemons is the difference of theirs (uncertainties add);
 * `relativeOffset` does that for a daemon versus the coordinator.
 */
export async function measureClock(redis: Redis, samples = 8): Promise<ClockEstimate> {
  let best: ClockEstimate | undefined
  for (let i = 0; i < samples; i++) {
    const t1 = nowUs()
    const [sec, micro] = (await redis.time()) as unknown as [string, string]
    const t4 = nowUs()
    const t2 = Number(sec) * 1e6 + Number(micro)
    const e: ClockEstimate = {
      offsetUs: Math.round((t2 - t1 + (t2 - t4)) / 2),
      // The server's stamp has 1 µs resolution; the half round trip dominates.
      uncertaintyUs: Math.ceil((t4 - t1) / 2) + 1,
      atUs: t4,
    }
    if (!best || e.uncertaintyUs < best.uncertaintyUs) best = e
  }
  return best!
}

/** Offset of a daemon's clock to the coordinator's: add it to the daemon's timestamps. */
export function relativeOffset(self: ClockEstimate, coordinator: ClockEstimate): ClockEstimate {
  return {
    offsetUs: self.offsetUs - coordinator.offsetUs,
    uncertaintyUs: self.uncertaintyUs + coordinator.uncertaintyUs,
    atUs: self.atUs,
  }
}

/**
 * The correction applied to a latency measured between two daemons' clocks (producer stamp,
 * consumer stamp): an offset within its uncertainty is indistinguishable from zero and would only
 * add noise, so it is applied only when it exceeds the uncertainty.
 */
export function latencyCorrectionUs(consumer: ClockEstimate, producer: ClockEstimate): number {
  const d = consumer.offsetUs - producer.offsetUs
  const u = consumer.uncertaintyUs + producer.uncertaintyUs
  return Math.abs(d) > u ? d : 0
}
