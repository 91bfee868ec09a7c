/** One intermediate hop (a bridge or iPaaS) that stamped the message. */
export interface HopStamp {
  /** Who stamped it, e.g. `bridge`. */
  by: string
  /** Receive time at the hop, µs since the epoch. */
  in: number
  /** Send time at the hop, µs since the epoch. */
  out: number
  /** Host id of the hop (JSON mode), so legs whose stamps come from different clocks can be marked. */
  host?: string
}

/**
 * iotload's per-message metadata. In JSON mode it is the `iotload` member of the payload object;
 * in binary mode a fixed header.
 */
export interface EnvelopeMeta {
  /** Run id (JSON mode). */
  run: string
  /** Device index. */
  dev: number
  /** Per-device sequence number, from 0. */
  seq: number
  /** Actual send time, µs since the epoch. */
  t: number
  /** Intended send time from the open-loop schedule, µs since the epoch. */
  ti: number
  /** Set on warm-up messages, which are excluded from the results. */
  warmup?: boolean
  /** Hop stamps appended by bridges, oldest first. */
  hops?: HopStamp[]
  /**
   * W3C `traceparent` of a traced (sampled) message, in either envelope (binary: version 00 only):
   * the trace survives protocols without headers (MQTT 3.1.1) and iPaaS steps that drop them.
   */
  tp?: string
}

/**
 * Why a received message could not be measured. Each is counted under `invalid`. `stale`: an
 * external flow's message whose timestamp lies before this run started (a leftover of an earlier
 * run); `foreign-run`: one that names another run.
 */
export type InvalidReason =
  | 'not-json'
  | 'no-metadata'
  | 'bad-metadata'
  | 'foreign-run'
  | 'truncated'
  | 'stale'

/** 32-bit FNV-1a hash, used as the compact run tag of the binary envelope. */
export function runTag(run: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < run.length; i++) {
    h ^= run.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

/** Earliest and latest plausible µs timestamps (2001 … 2286); anything else is garbled metadata. */
export const MIN_PLAUSIBLE_US = 1e15
export const MAX_PLAUSIBLE_US = 1e16

export function isPlausibleUs(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= MIN_PLAUSIBLE_US && v < MAX_PLAUSIBLE_US
}

export function isIndex(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
}
