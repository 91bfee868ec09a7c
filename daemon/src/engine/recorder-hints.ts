import type { EnvelopeProbe } from './envelope-probe.ts'

/** What the recorder saw, for `recorderHints`. */
export interface HintInputs {
  /** Valid arrivals, measured and warm-up (first arrivals). */
  received: number
  /** Arrivals counted `invalid: no-metadata`. */
  noMetadata: number
  probe: EnvelopeProbe
  /** The configured leg stamp paths (`consumer.external.legs`). */
  legsConfigured: { in?: string; out?: string }
  /** Messages that carried each leg stamp, and leg values below zero. */
  legStamps: { in: number; out: number; negative: number }
  /** Valid arrivals including duplicates (those a leg stamp could be read from). */
  valid: number
  correlationExpired: number
  /** Correlation slots per device, when correlation ids are used. */
  perDevice: number | undefined
}

/**
 * Plain-language hints for the summary: settings the user most likely needs, from what arrived.
 * Empty when nothing calls for one.
 */
export function recorderHints(i: HintInputs): string[] {
  const hints: string[] = []
  const p = i.probe
  if (i.received === 0 && i.noMetadata > 0 && p.path !== undefined)
    hints.push(
      `every message lacked metadata where it was looked for, but ${p.found} of the first ${p.probed} carried iotload's envelope at ${p.path}: set consumer.external.envelopePath: ${p.path}`,
    )
  const legs: Array<[string, string | undefined, number]> = [
    ['ipaas-in', i.legsConfigured.in, i.legStamps.in],
    ['ipaas-out', i.legsConfigured.out, i.legStamps.out],
  ]
  for (const [name, path, seen] of legs)
    if (path !== undefined && seen === 0 && i.valid > 0)
      hints.push(
        `consumer.external.legs.${name}: none of ${i.valid} messages had a usable stamp at ${path} (check the path and its format)`,
      )
  if (i.legStamps.negative > 0)
    hints.push(
      `${i.legStamps.negative} leg values came out negative and were left out: the flow's clock runs behind iotload's (another host, or no NTP)`,
    )
  if (i.correlationExpired > 0)
    hints.push(
      `${i.correlationExpired} ids came back after their device had sent ${i.perDevice} more (the correlation table's share per device): counted received, without a latency; raise consumer.external.correlationWindow`,
    )
  return hints
}
