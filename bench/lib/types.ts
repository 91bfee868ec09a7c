/** One recorded benchmark figure. Ratios compare against a baseline measured in the same run. */
export interface BenchFigure {
  /** Suite that produced it, e.g. `mqtt`. */
  suite: string
  /** What was measured, e.g. `max sustained e2e rate, QoS 0`. */
  metric: string
  value: number
  unit: string
  /** Baseline measured in the same run on the same machine, when the figure is a comparison. */
  baseline?: { name: string; value: number }
  /** value / baseline.value (or the inverse for lower-is-better metrics, stated in `notes`). */
  ratio?: number
  /** Target as text, e.g. `≥ 0.8`, and whether it was met. */
  target?: string
  met?: boolean
  /** For a capacity found by find-max: what set the limit (broker, generator, ceiling). */
  limitedBy?: string
  notes?: string
}

/** A benchmark suite: `bench/suites/<name>.ts` default-exports one. */
export interface BenchSuite {
  name: string
  /** Services it needs, checked before running; a missing one skips the suite with a note. */
  requires?: Array<{ name: string; host: string; port: number }>
  run(): Promise<BenchFigure[]>
}
