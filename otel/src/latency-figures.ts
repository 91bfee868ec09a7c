import type { ReceiveInfo, SendInfo, SettleInfo } from './hooks.ts'
import { BucketHistogram, type BucketState } from './latency-buckets.ts'

/** Latency legs besides e2e, named as the engine's recorder streams. */
export const LEGS = ['publish-ack', 'producer-bridge', 'bridge', 'bridge-consumer'] as const
export type Leg = (typeof LEGS)[number]

/**
 * The per-message part of a run's metrics: latency bucket histograms (ms) and the worst send lag.
 * A run's `RunMetrics` holds one; each worker thread of a sharded run holds its own, whose
 * `takeFigures` the main thread adds with `absorbFigures`, so the buckets count every message once.
 */
export interface LatencyFigures {
  readonly e2e: BucketHistogram
  readonly e2eCorrected: BucketHistogram
  readonly legs: Record<Leg, BucketHistogram>
  /** Largest send lag (actual − intended) since the last collection, µs. */
  lagMaxUs: number
}

/** `LatencyFigures` as plain data, posted from a worker thread. */
export interface LatencyFiguresState {
  e2e: BucketState
  e2eCorrected: BucketState
  legs: Record<Leg, BucketState>
  lagMaxUs: number
}

export function newLatencyFigures(): LatencyFigures {
  return {
    e2e: new BucketHistogram(),
    e2eCorrected: new BucketHistogram(),
    legs: {
      'publish-ack': new BucketHistogram(),
      'producer-bridge': new BucketHistogram(),
      bridge: new BucketHistogram(),
      'bridge-consumer': new BucketHistogram(),
    },
    lagMaxUs: 0,
  }
}

/** A valid message received: e2e (raw and corrected) and, through a bridge, its legs. */
export function recordReceive(f: LatencyFigures, info: ReceiveInfo): void {
  const meta = info.meta
  if (meta.warmup === true) return
  const raw = info.recvUs - meta.t
  // Negative = cross-host clock skew; the recorder does not count it as a latency either.
  if (raw < 0) return
  f.e2e.record(raw / 1000)
  f.e2eCorrected.record((info.recvUs - meta.ti) / 1000)
  const hops = meta.hops
  if (hops === undefined || hops.length === 0) return
  const first = hops[0]!
  const last = hops[hops.length - 1]!
  let processing = 0
  for (const h of hops) processing += h.out - h.in
  f.legs['producer-bridge'].record((first.in - meta.t) / 1000)
  f.legs.bridge.record(processing / 1000)
  f.legs['bridge-consumer'].record((info.recvUs - last.out) / 1000)
}

export function recordSend(f: LatencyFigures, info: SendInfo): void {
  const lag = info.tUs - info.tiUs
  if (lag > f.lagMaxUs) f.lagMaxUs = lag
}

export function recordSettled(f: LatencyFigures, info: SettleInfo): void {
  if (info.ok) f.legs['publish-ack'].record((info.ackUs - info.tUs) / 1000)
}

/** What was recorded since the last take, and a reset. */
export function takeFigures(f: LatencyFigures): LatencyFiguresState {
  const legs = {} as Record<Leg, BucketState>
  for (const leg of LEGS) legs[leg] = f.legs[leg].take()
  const state = { e2e: f.e2e.take(), e2eCorrected: f.e2eCorrected.take(), legs, lagMaxUs: f.lagMaxUs }
  f.lagMaxUs = 0
  return state
}

/** Adds a worker's taken figures; anything that is not such a state is ignored. */
export function absorbFigures(f: LatencyFigures, state: unknown): void {
  if (!isFiguresState(state)) return
  f.e2e.absorb(state.e2e)
  f.e2eCorrected.absorb(state.e2eCorrected)
  for (const leg of LEGS) f.legs[leg].absorb(state.legs[leg])
  if (state.lagMaxUs > f.lagMaxUs) f.lagMaxUs = state.lagMaxUs
}

const isBucketState = (x: unknown): x is BucketState =>
  typeof x === 'object' && x !== null && Array.isArray((x as BucketState).counts)

function isFiguresState(x: unknown): x is LatencyFiguresState {
  if (typeof x !== 'object' || x === null) return false
  const s = x as LatencyFiguresState
  return (
    isBucketState(s.e2e) &&
    isBucketState(s.e2eCorrected) &&
    typeof s.lagMaxUs === 'number' &&
    typeof s.legs === 'object' &&
    s.legs !== null &&
    LEGS.every((leg) => isBucketState(s.legs[leg]))
  )
}
