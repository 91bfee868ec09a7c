/** One paced probe of a raw client: whether it held the rate, what it sent, what never arrived. */
export interface RawProbe {
  ok: boolean
  sent: number
  lost: number
  /** Arrivals by the end of the sending window: a backlog drained only afterwards is not a held rate. */
  onTime: number
}

/** What a paced probe of `seconds` at `rate` counted. */
export interface RawCounts {
  rate: number
  seconds: number
  /** Messages the client issued. */
  sent: number
  /** Of those, what the broker accepted (acked or, without acks, written). */
  accepted: number
  /** Arrivals at the subscriber by the end of the sending window, and after the drain. */
  onTime: number
  received: number
}

/**
 * The verdict of a probe, on find-max's own terms: nothing accepted was lost, everything issued was
 * accepted, and both the sends and the arrivals by the window's end reached 97% of the rate.
 */
export function rawProbe(c: RawCounts): RawProbe {
  const lost = Math.max(0, c.accepted - c.received)
  const due = 0.97 * c.rate * c.seconds
  const ok = lost === 0 && c.accepted === c.sent && c.sent >= due && c.onTime >= due
  return { ok, sent: c.sent, lost, onTime: c.onTime }
}

/**
 * A raw client's highest lossless rate, searched as `iotload find-max` searches iotload's: doubling
 * from a sixteenth of its flat-out ceiling, then bisection to 5%. The baseline for a lossless
 * capacity where the raw client's flat-out run lost messages (a PUB past its high-water mark,
 * Mosquitto past `max_queued_messages`): a rate measured with losses is not one iotload may reach.
 */
export async function rawLosslessRate(
  ceiling: number,
  probe: (rate: number) => Promise<RawProbe>,
): Promise<{ rate: number; curve: string }> {
  const curve: string[] = []
  const holds = async (rate: number) => {
    const r = await probe(rate)
    curve.push(
      `${r.ok ? 'ok' : 'FAIL'} ${Math.round(rate)}/s (sent ${r.sent}, arrived in the window ${r.onTime}, lost ${r.lost})`,
    )
    return r.ok
  }
  let good = 0
  let bad = ceiling * 2
  for (let rate = ceiling / 16; rate < bad; rate *= 2) {
    if (!(await holds(rate))) {
      bad = rate
      break
    }
    good = rate
  }
  while (good > 0 && bad / good > 1.05) {
    const mid = (good + bad) / 2
    if (await holds(mid)) good = mid
    else bad = mid
  }
  return { rate: good, curve: curve.join('; ') }
}

/** Waits until `count()` stops moving for half a second, at most `maxS` seconds. */
export async function settle(count: () => number, maxS = 5): Promise<void> {
  const until = performance.now() + maxS * 1000
  let last = -1
  while (count() !== last && performance.now() < until) {
    last = count()
    await new Promise((r) => setTimeout(r, 500))
  }
}
