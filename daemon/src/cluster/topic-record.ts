import type { SecondReport } from '../engine/recorder.ts'

/** One topic's figures for one second from one member, stored at `run:{id}:res:{topic}`. */
export interface TopicSecond {
  /** Second index since the plan's epoch (coordinator clock). */
  s: number
  /** Member that recorded it. */
  m: string
  received: number
  receivedWarmup: number
  duplicates: number
  reordered: number
  invalid: number
  clockSkew: number
  gaps: number
  /** Encoded e2e histograms (raw and coordinated-omission corrected), µs. */
  raw: string
  co: string | null
  /** Other legs (bridge …) present in this second: stream → encoded raw histogram. */
  legs?: Record<string, string>
}

/** A recorder's second as a TopicSecond. */
export function topicSecond(second: number, member: string, r: SecondReport): TopicSecond {
  const c = r.counters
  const e2e = r.streams.find((x) => x.stream === 'e2e')
  const legs: Record<string, string> = {}
  for (const x of r.streams)
    if (x.stream !== 'e2e' && x.snapshot.raw.count > 0) legs[x.stream] = x.snapshot.rawHist
  const out: TopicSecond = {
    s: second,
    m: member,
    received: c.received,
    receivedWarmup: c.receivedWarmup,
    duplicates: c.duplicates,
    reordered: c.reordered,
    invalid: c.invalid,
    clockSkew: c.clockSkew,
    gaps: r.gaps,
    raw: e2e?.snapshot.rawHist ?? '',
    co: e2e?.snapshot.coHist ?? null,
  }
  if (Object.keys(legs).length > 0) out.legs = legs
  return out
}
