import type { ProducerConfig } from '../scenario/schema.ts'
import { producerCurve } from './rate-curve.ts'
import type { SequenceTracker } from './sequence-tracker.ts'

/**
 * Sends intended in [fromUs, toUs) and how many of them never arrived, exactly: the schedule says
 * which (device, seq) each send was (send n is device n mod N, seq n div N, due when the rate's
 * integral reaches n), the sequence tracker which of them arrived. Only sends actually issued
 * (`issued`, warm-up included) count; a seq whose bit left the tracker's window counts as arrived.
 */
export function lossBetween(
  p: ProducerConfig,
  t0Us: number,
  issued: number,
  sequences: SequenceTracker,
  fromUs: number,
  toUs: number,
): { sent: number; lost: number } {
  const curve = producerCurve(p)
  const first = Math.min(issued, curve.dueBy(fromUs - t0Us - 1e-3))
  const last = Math.min(issued, curve.dueBy(toUs - t0Us - 1e-3))
  let lost = 0
  for (let n = first; n < last; n++) {
    if (sequences.has(p.firstDevice + (n % p.devices), Math.floor(n / p.devices)) === false) lost++
  }
  return { sent: Math.max(0, last - first), lost }
}
