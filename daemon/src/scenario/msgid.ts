/**
 * The correlation id of `{msgid}` in a payload template: `<run>-<device>-<seq>`. A flow that keeps
 * only this id still tells iotload the run, the device and the seq of what it sends back
 * (`consumer.external.correlationPath`).
 */

/** The id a message carries: `<run>-<device>-<seq>`. */
export function formatMsgId(run: string, device: number, seq: number): string {
  return `${run}-${device}-${seq}`
}

/** Splits an id from `formatMsgId`; undefined when it is not one (the run id may contain `-`). */
export function parseMsgId(id: unknown): { run: string; dev: number; seq: number } | undefined {
  if (typeof id !== 'string') return undefined
  const b = id.lastIndexOf('-')
  const a = b > 0 ? id.lastIndexOf('-', b - 1) : -1
  if (a <= 0) return undefined
  const dev = digits(id, a + 1, b)
  const seq = digits(id, b + 1, id.length)
  if (dev === undefined || seq === undefined) return undefined
  return { run: id.slice(0, a), dev, seq }
}

function digits(s: string, from: number, to: number): number | undefined {
  if (to <= from || to - from > 15) return undefined
  let n = 0
  for (let i = from; i < to; i++) {
    const d = s.charCodeAt(i) - 48
    if (d < 0 || d > 9) return undefined
    n = n * 10 + d
  }
  return n
}
