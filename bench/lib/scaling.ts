import type { BenchFigure } from './types.ts'

/** A suite's result as bench/run.ts keeps it. */
interface SuiteFigures {
  suite: string
  measuredAt: string
  /** `node …, load a/b/c on N cores`, as bench/run.ts records it. */
  machine?: string
  figures: BenchFigure[]
}

const find = (figs: BenchFigure[], re: RegExp) => figs.find((f) => re.test(f.metric))
const k = (n: number) => `${Math.round(n / 1000).toLocaleString('en-US')}k`

/**
 * "Scaling on a bigger machine": an estimate on paper from what the cpu suite measured here (CPU per
 * message on the producer and the consumer side, the main thread's merge cost per worker count),
 * and the capacity with `workers: 1` and `workers: auto` beside each other. Rendered into
 * BENCHMARKS.md with the figures, so it is recomputed whenever they are.
 */
export function scalingSection(results: SuiteFigures[]): string[] {
  const cpu = results.find((r) => r.suite === 'cpu')
  if (!cpu) return []
  const whole = find(cpu.figures, /NATS core, producer \+ consumer in one process, workers: 1$/)?.value
  const producer = find(cpu.figures, /NATS core, producer side only/)?.value
  const sharded = find(cpu.figures, /NATS core, workers: 2 \(all threads/)?.value
  const merges = cpu.figures
    .filter((f) => /^main-thread merge of one second, (\d+) worker/.test(f.metric))
    .map((f) => ({ w: Number(/(\d+) worker/.exec(f.metric)![1]), ms: f.value }))
  if (!whole || !producer || merges.length < 2) return []
  const consumer = Math.max(1, whole - producer)
  const first = merges[0]!
  const last = merges[merges.length - 1]!
  const slope = (last.ms - first.ms) / (last.w - first.w)
  const perProducerCore = 1e9 / producer
  const consumerCeiling = 1e9 / consumer
  const capacity = results.flatMap((r) =>
    r.figures
      .filter((f) => f.limitedBy && /workers: auto|workers: 1|\(find-max\)$/.test(f.metric))
      .map((f) => ({
        suite: r.suite,
        f,
        when: `${r.measuredAt}${r.machine ? ` (load ${r.machine.replace(/.*load ([\d./]+).*/, '$1')})` : ''}`,
      })),
  )
  const pairs = capacity.filter(({ f }) => /workers: auto/.test(f.metric))
  const lines = [
    '',
    '## Scaling on a bigger machine (estimate from the measurements here)',
    '',
    `Measured by the cpu suite (${cpu.measuredAt}) at 20,000 msg/s over NATS core: a message costs`,
    `${whole.toLocaleString('en-US')} ns of CPU end to end with \`workers: 1\`, of which ${producer.toLocaleString('en-US')} ns on the producer side`,
    `(consumer disabled) and so about ${consumer.toLocaleString('en-US')} ns on the consumer side; with \`workers: 2\` the`,
    `process spent ${sharded ? `${sharded.toLocaleString('en-US')} ns` : 'n/a'} per message (all threads). These costs include this`,
    "machine's contention (2 cores shared with the brokers and other work), so they are upper bounds.",
    '',
    `- **msg/s per producer worker** ≈ 1 s / ${producer.toLocaleString('en-US')} ns ≈ **${k(perProducerCore)} msg/s per core** at this per-message cost`,
    '  (more at higher rates, where a timer tick carries more sends per socket write).',
    `- **The consumer worker** is one thread: ≈ 1 s / ${consumer.toLocaleString('en-US')} ns ≈ **${k(consumerCeiling)} msg/s**, the ceiling of a`,
    '  sharded run until consumers are sharded too (not built yet: one consumer worker per run).',
    `- **Merge cost** on the main thread, per second of run (e2e raw + corrected at 20k msg/s): ${merges.map((m) => `${m.w} worker${m.w > 1 ? 's' : ''} ${m.ms} ms`).join(', ')}:`,
    `  about **${slope.toFixed(1)} ms more per worker per second** (linear: one decode and add per worker and stream),`,
    `  so 16 workers cost the main thread ≈ ${(first.ms + slope * 15).toFixed(0)} ms/s (${((first.ms + slope * 15) / 10).toFixed(1)} % of a core), and each further latency`,
    '  stream (bridge legs, publish acks) adds the same again.',
    `- **A 16-core machine** (15 producer workers + 1 consumer worker): producers ≈ ${k(15 * perProducerCore)} msg/s, bounded`,
    `  by the one consumer worker at ≈ ${k(consumerCeiling)} msg/s; a producer-only run (\`consumer.enabled: false\`, consumers on`,
    `  other daemons) reaches ≈ ${k(15 * perProducerCore)} msg/s with ≈ ${(first.ms + slope * 14).toFixed(0)} ms/s of merging.`,
  ]
  if (pairs.length > 0) {
    lines.push(
      '',
      'Capacity with `workers: 1` and `workers: auto` on this 2-core machine (find-max, same raw ceiling).',
      'Read with the machine load beside each row: on a loaded machine one thread gets a fraction of a',
      'core (the `cpu` of each probe in the notes), and part of what `auto` gains there is a larger share',
      'of a contended CPU, not only work spread over cores.',
      '',
    )
    lines.push(
      '| suite | workers: 1 | ratio | workers: auto | ratio | measured |',
      '|---|---|---|---|---|---|',
    )
    for (const { suite, f, when } of pairs) {
      const base = f.metric.replace(/, workers: auto/, '')
      const one = capacity.find(
        (c) =>
          c.suite === suite &&
          c.f !== f &&
          (c.f.metric === base || c.f.metric === base.replace(' (find-max)', ', workers: 1 (find-max)')),
      )?.f
      lines.push(
        `| ${suite} | ${one ? `${one.value.toLocaleString('en-US')} msg/s` : ''} | ${one?.ratio ?? ''} | ${f.value.toLocaleString('en-US')} msg/s | ${f.ratio ?? ''} | ${when} |`,
      )
    }
  }
  return lines
}
