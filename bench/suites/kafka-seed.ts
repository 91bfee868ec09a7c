import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { RunSummary } from '../../daemon/src/engine/summary.ts'
import type { BenchFigure, BenchSuite } from '../lib/types.ts'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const EXAMPLE = join(ROOT, 'examples', 'seed-kafka-camel.yaml')
const SEED = "the seed's 5–15 ms at 10k msg/s (Kafka + Camel on 8-core VMs)"

interface Trial {
  summary: RunSummary
  /** CPU seconds the `iotload run` process used (user + system), last read before it ended. */
  cpuS: number
  /** kafkajs "group is rebalancing" lines the run logged. */
  rebalanceLines: number
  load: string
}

/** CPU seconds of `pid` so far, from /proc (0 when it cannot be read). */
async function cpuSeconds(pid: number): Promise<number> {
  try {
    const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return 0
  }
}

/**
 * The example as shipped, on fresh topics (`direct`: the consumer reads the producer's topic and
 * the bridge is left out, the floor the bridged path stands on), in a fresh `iotload run`.
 */
async function trial(dir: string, direct: boolean): Promise<Trial> {
  const tag = randomUUID().slice(0, 8)
  const from = `bench-seed-${tag}-in`
  const to = direct ? from : `bench-seed-${tag}-out`
  let text = (await readFile(EXAMPLE, 'utf8'))
    .replace(/^( {2}(topic|from): )PUBLISHER$/gm, `$1${from}`)
    .replace(/^( {2}(topic|to): )SUBSCRIBER$/gm, `$1${to}`)
  if (direct) text = text.replace(/^bridge:\n(?: {2}.*\n)*/m, '')
  const file = join(dir, `${tag}.yaml`)
  const out = join(dir, `${tag}.json`)
  await writeFile(file, text)
  const load = loadavg()[0]!.toFixed(1)
  const args = [
    join(ROOT, 'daemon/bin/iotload.js'),
    'run',
    file,
    '--json',
    out,
    '--db',
    join(dir, `${tag}.db`),
  ]
  let cpuS = 0
  let stderr = ''
  await new Promise<void>((resolve, reject) => {
    const child = execFile(
      'node',
      args,
      { cwd: ROOT, timeout: 300_000, maxBuffer: 1 << 26 },
      (err, _o, e) => {
        stderr = e
        clearInterval(poll)
        // 1: an SLO failed, the run itself is fine.
        if (err && (err as { code?: number }).code !== 1) reject(err)
        else resolve()
      },
    )
    const poll = setInterval(() => {
      if (child.pid) void cpuSeconds(child.pid).then((s) => (cpuS = Math.max(cpuS, s)))
    }, 250)
  })
  const summary = JSON.parse(await readFile(out, 'utf8')) as RunSummary
  const rebalanceLines = stderr.split('\n').filter((l) => l.includes('rebalancing')).length
  return { summary, cpuS, rebalanceLines, load }
}

const ms = (us: number | undefined) => (us === undefined ? '-' : `${(us / 1000).toFixed(1)} ms`)

function describe(t: Trial): string {
  const s = t.summary
  const e2e = s.streams.e2e!
  const g = s.generator
  const leg = (name: string) => {
    const l = s.streams[name]?.latency.raw
    return l ? `${ms(l.p50)}/${ms(l.p99)}` : '-'
  }
  return [
    `sent ${Math.round(g?.achievedSendRate ?? 0)}/s, recv ${Math.round(e2e.rate ?? 0)}/s, lost ${e2e.lost ?? 0}, undelivered ${e2e.undelivered ?? 0}`,
    s.generatorLimited ? `LIMITED (${g?.reasons.join('; ')})` : 'generator kept its schedule',
    `e2e p50/p99 ${leg('e2e')}, publish-ack ${leg('publish-ack')}, producer→bridge ${leg('producer-bridge')}, bridge→consumer ${leg('bridge-consumer')}`,
    s.bridge
      ? `bridge overflow drops ${s.bridge.overflowDropped}, in-flight peak ${s.bridge.inFlightPeak}, queued peak ${s.bridge.queuedPeak}`
      : 'no bridge',
    `${t.rebalanceLines} kafkajs rebalance lines`,
    `iotload CPU ${t.cpuS.toFixed(1)} s (warm-up and drain included) = ${((t.cpuS * 1e6) / Math.max(1, e2e.received ?? 0)).toFixed(0)} µs per message received end to end`,
    `machine load ${t.load} on 2 cores`,
  ].join('; ')
}

/**
 * `examples/seed-kafka-camel.yaml` as shipped (500 devices × 20/s = 10k msg/s, iotload's bridge,
 * 10 consumers in one group), against the same scenario without the bridge in the same run.
 */
const suite: BenchSuite = {
  name: 'kafka-seed',
  requires: [{ name: 'Kafka', host: '127.0.0.1', port: 9092 }],
  async run(): Promise<BenchFigure[]> {
    const dir = await mkdtemp(join(tmpdir(), 'iotload-bench-seed-'))
    const direct = await trial(dir, true)
    const seed = await trial(dir, false)
    const s = seed.summary
    const e2e = s.streams.e2e!
    const b = direct.summary.streams.e2e!
    const overflow = s.bridge?.overflowDropped ?? 0
    const notes = `bridged: ${describe(seed)}. Without the bridge: ${describe(direct)}. Seed: ${SEED}.`
    return [
      {
        suite: 'kafka-seed',
        metric: 'examples/seed-kafka-camel.yaml at 10k msg/s: e2e p99 through the bridge',
        value: Math.round(e2e.latency.raw.p99 / 100) / 10,
        unit: 'ms',
        baseline: {
          name: 'the same scenario without the bridge',
          value: Math.round(b.latency.raw.p99 / 100) / 10,
        },
        ratio: Number((e2e.latency.raw.p99 / Math.max(1, b.latency.raw.p99)).toFixed(3)),
        notes,
      },
      {
        suite: 'kafka-seed',
        metric: 'examples/seed-kafka-camel.yaml at 10k msg/s: received rate through the bridge',
        value: Math.round(e2e.rate ?? 0),
        unit: 'msg/s',
        baseline: { name: 'the same scenario without the bridge', value: Math.round(b.rate ?? 0) },
        ratio: Number(((e2e.rate ?? 0) / Math.max(1, b.rate ?? 0)).toFixed(3)),
        target: 'not LIMITED, lost 0, no bridge overflow drops',
        met: !s.generatorLimited && (e2e.lost ?? 0) === 0 && (e2e.undelivered ?? 0) === 0 && overflow === 0,
        notes: `lost ${e2e.lost ?? 0}, undelivered ${e2e.undelivered ?? 0}, overflow drops ${overflow}, ${s.generatorLimited ? 'generator LIMITED' : 'generator kept its schedule'}`,
      },
    ]
  },
}

export default suite
