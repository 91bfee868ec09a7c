import type * as hdr from 'hdr-histogram-js'
import { Counters } from '../counters.ts'
import type { GeneratorSecond } from '../generator-health.ts'
import type { GroupSecond } from '../group-breakdown.ts'
import { decodeHistogram, encodeHistogram, type LatencyStats, mergeEncoded, statsOf } from '../histogram.ts'
import type { SecondReport, StreamSecond } from '../recorder.ts'
import type { StreamSnapshot } from '../latency-stream.ts'

/** A stream's merged histograms: per second, and cumulative over the run. */
export interface MergedStream {
  corrected: boolean
  totalRaw: hdr.Histogram
  totalCo: hdr.Histogram | undefined
  /** Exact extremes of everything recorded (a decoded histogram knows them only to its bucket). */
  raw: Extremes
  co: Extremes
}

interface Extremes {
  min: number
  max: number
}

const noExtremes = (): Extremes => ({ min: Number.POSITIVE_INFINITY, max: 0 })

/** Folds the workers' exact min and max of one second into `into`, and returns the second's own. */
function extremesOf(list: Array<LatencyStats | undefined>, into: Extremes): Extremes {
  const e = noExtremes()
  for (const s of list) {
    if (!s || s.count === 0) continue
    e.min = Math.min(e.min, s.min)
    e.max = Math.max(e.max, s.max)
  }
  into.min = Math.min(into.min, e.min)
  into.max = Math.max(into.max, e.max)
  return e
}

/**
 * Stats of a merged histogram with the exact extremes the recording threads saw: the same figures,
 * percentiles clamped to the max alike, that one histogram fed every value reports.
 */
export function statsWithExtremes(h: hdr.Histogram, e: Extremes): LatencyStats {
  const s = statsOf(h)
  if (s.count === 0 || e.max === 0) return s
  const at = (v: number) => Math.min(v, e.max)
  return { ...s, min: e.min, max: e.max, p50: at(s.p50), p90: at(s.p90), p99: at(s.p99), p999: at(s.p999) }
}

/** Counters as they cross a thread (structured clone drops the class). */
function countersOf(data: Counters): Counters {
  const c = new Counters()
  c.add(Object.assign(new Counters(), data, { invalidByReason: { ...data.invalidByReason } }))
  return c
}

function worstGenerator(
  a: GeneratorSecond | undefined,
  b: GeneratorSecond | undefined,
): GeneratorSecond | undefined {
  if (!a || !b) return a ?? b
  // Percentiles of different threads do not add up: the worst thread is what kept the schedule or not.
  return {
    lagP99Us: Math.max(a.lagP99Us, b.lagP99Us),
    lagMaxUs: Math.max(a.lagMaxUs, b.lagMaxUs),
    eventLoopDelayP99Us: Math.max(a.eventLoopDelayP99Us, b.eventLoopDelayP99Us),
    eventLoopDelayMaxUs: Math.max(a.eventLoopDelayMaxUs, b.eventLoopDelayMaxUs),
    inFlightPeak: a.inFlightPeak + b.inFlightPeak,
  }
}

/**
 * One second's per-group figures: the producer workers count each group's sends, the consumer
 * worker its arrivals and latencies (the producers' own percentiles are 0, nothing arrived there).
 */
function mergeGroups(reports: SecondReport[]): GroupSecond[] | undefined {
  const byName = new Map<string, GroupSecond>()
  for (const r of reports)
    for (const g of r.groups ?? []) {
      const m = byName.get(g.group)
      if (!m) byName.set(g.group, { ...g })
      else {
        m.sent += g.sent
        m.received += g.received
        m.p50 = Math.max(m.p50, g.p50)
        m.p99 = Math.max(m.p99, g.p99)
      }
    }
  return byName.size > 0 ? [...byName.values()] : undefined
}

/**
 * Merges the per-second reports of a run's worker threads into the run's one series, exactly as
 * the cluster merges daemons: counters add, encoded HdrHistograms merge without loss, so every
 * percentile is the one a single thread recording all the values would have reported. A second is
 * released once every worker still running reported it; a worker that ended is no longer waited for.
 */
export class SecondMerger {
  private readonly pending = new Map<number, Array<SecondReport | undefined>>()
  private readonly ended: boolean[]
  private next = 0
  /** Cumulative merged histograms per stream, in first-seen order. */
  readonly streams = new Map<string, MergedStream>()
  /** Time spent merging, µs (the cost that grows with workers). */
  mergeUs = 0

  constructor(private readonly workers: number) {
    this.ended = new Array<boolean>(workers).fill(false)
  }

  /** One worker's report of a second; returns the merged seconds this completed, in order. */
  add(worker: number, report: SecondReport): SecondReport[] {
    let slot = this.pending.get(report.second)
    if (!slot) {
      slot = new Array<SecondReport | undefined>(this.workers).fill(undefined)
      this.pending.set(report.second, slot)
    }
    slot[worker] = report
    return this.release()
  }

  /** A worker finished (or died): seconds it did not report are merged without it. */
  end(worker: number): SecondReport[] {
    this.ended[worker] = true
    return this.release()
  }

  /** Everything still held, merged as it is (the run is over). */
  flush(): SecondReport[] {
    this.ended.fill(true)
    return this.release()
  }

  private release(): SecondReport[] {
    const out: SecondReport[] = []
    for (;;) {
      const slot = this.pending.get(this.next)
      if (!slot) {
        // A second nobody reported, with later ones waiting, only happens once all ended.
        const later = [...this.pending.keys()].some((s) => s > this.next)
        if (later && this.ended.every(Boolean)) {
          this.next++
          continue
        }
        return out
      }
      if (slot.some((r, k) => r === undefined && !this.ended[k])) return out
      this.pending.delete(this.next)
      out.push(this.merge(slot.filter((r): r is SecondReport => r !== undefined)))
      this.next++
    }
  }

  /** Merges one second's reports (one per worker that reported it). */
  merge(reports: SecondReport[]): SecondReport {
    const t0 = performance.now()
    const counters = new Counters()
    const byStream = new Map<string, StreamSecond[]>()
    let generator: GeneratorSecond | undefined
    let gaps = 0
    let warmup = false
    for (const r of reports) {
      counters.add(countersOf(r.counters))
      gaps += r.gaps
      warmup ||= r.warmup
      generator = worstGenerator(generator, r.generator)
      for (const s of r.streams) {
        const list = byStream.get(s.stream) ?? []
        list.push(s)
        byStream.set(s.stream, list)
      }
    }
    const streams: StreamSecond[] = []
    for (const [name, list] of byStream)
      streams.push({ stream: name, snapshot: this.mergeStream(name, list) })
    const merged: SecondReport = { second: reports[0]?.second ?? this.next, warmup, counters, gaps, streams }
    if (generator) merged.generator = generator
    // Per-subscriber figures come from the one consumer worker alone.
    const subscribers = reports.find((r) => r.subscribers)?.subscribers
    if (subscribers) merged.subscribers = subscribers
    const groups = mergeGroups(reports)
    if (groups) merged.groups = groups
    this.mergeUs += (performance.now() - t0) * 1000
    return merged
  }

  private mergeStream(name: string, list: StreamSecond[]): StreamSnapshot {
    const corrected = list.some((s) => s.snapshot.coHist !== undefined)
    let total = this.streams.get(name)
    if (!total) {
      total = {
        corrected,
        totalRaw: mergeEncoded([]),
        totalCo: corrected ? mergeEncoded([]) : undefined,
        raw: noExtremes(),
        co: noExtremes(),
      }
      this.streams.set(name, total)
    }
    const raw = mergeEncoded(list.map((s) => s.snapshot.rawHist))
    total.totalRaw.add(raw)
    const snap: StreamSnapshot = {
      raw: statsWithExtremes(
        raw,
        extremesOf(
          list.map((s) => s.snapshot.raw),
          total.raw,
        ),
      ),
      co: undefined,
      rawHist: encodeHistogram(raw),
      coHist: undefined,
    }
    if (corrected) {
      const co = mergeEncoded(list.flatMap((s) => (s.snapshot.coHist ? [s.snapshot.coHist] : [])))
      total.totalCo?.add(co)
      snap.co = statsWithExtremes(
        co,
        extremesOf(
          list.map((s) => s.snapshot.co),
          total.co,
        ),
      )
      snap.coHist = encodeHistogram(co)
    }
    return snap
  }
}

/** The run's cumulative figures of a merged stream, as `LatencyStream.cumulative()` gives them. */
export function cumulativeOf(m: MergedStream): StreamSnapshot {
  return {
    raw: statsWithExtremes(m.totalRaw, m.raw),
    co: m.totalCo ? statsWithExtremes(m.totalCo, m.co) : undefined,
    rawHist: encodeHistogram(m.totalRaw),
    coHist: m.totalCo ? encodeHistogram(m.totalCo) : undefined,
  }
}

/** Decodes a snapshot's histograms again (tests compare them with a single recorder's). */
export function snapshotHistograms(s: StreamSnapshot): { raw: hdr.Histogram; co: hdr.Histogram | undefined } {
  return { raw: decodeHistogram(s.rawHist), co: s.coHist ? decodeHistogram(s.coHist) : undefined }
}
