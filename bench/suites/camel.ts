import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import type { RunSummary } from '../../daemon/src/engine/summary.ts'
import {
  awaitCamelRoute,
  fetchCamel,
  jdkAvailable,
  startCamelRoute,
} from '../../daemon/src/engine/testing/camel-route.ts'
import { loadPlugin } from '../../daemon/src/plugins/loader.ts'
import { sustained } from '../lib/in-process-run.ts'
import type { BenchFigure, BenchSuite } from '../lib/types.ts'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const exec = promisify(execFile)
const PARTITIONS = 10
const DEVICES = 100
/** The seed's published figure for Kafka + Camel at 10k msg/s (IOT_load_test_client README). */
const SEED = '5–15 ms end to end at 10k msg/s (seed README, "Apache Kafka + CAMEL", 8-core VMs)'

/** The path both trials share: 100 devices on 10 shared Kafka connections, one keyed topic each way. */
function scenario(rate: number, topics: { from: string; to: string }, middle: 'camel' | 'bridge') {
  return {
    name: `bench camel: ${middle} at ${rate}/s`,
    broker: { plugin: 'kafka', url: 'kafka://127.0.0.1:9092', partitions: PARTITIONS, acks: 'all' },
    producer: {
      devices: DEVICES,
      rate: `${rate / DEVICES}/s`,
      duration: rate >= 10_000 ? '15s' : '20s',
      warmup: '5s',
      topic: topics.from,
      connections: 10,
      payload: { device: '{device}', temperature: '{float:15:35:1}', valve: '{choice:open|closed}' },
      qos: 1,
    },
    consumer:
      middle === 'camel'
        ? {
            topic: topics.to,
            external: {
              envelopePath: '$.original.iotload',
              format: 'epoch-us',
              legs: { 'ipaas-in': '$.receivedAt', 'ipaas-out': '$.decidedAt' },
            },
          }
        : { topic: topics.to },
    ...(middle === 'bridge'
      ? {
          bridge: {
            from: topics.from,
            to: topics.to,
            transform: { map: { command: 'close-valve', device: '$.device', reading: '$.temperature' } },
          },
        }
      : {}),
    run: { drain: '20s', generator: { maxLag: '10ms' } },
  }
}

/** One `iotload run` in a fresh process; the summary it wrote. */
async function trial(dir: string, s: Record<string, unknown>): Promise<RunSummary> {
  const tag = randomUUID().slice(0, 8)
  const file = join(dir, `${tag}.json`)
  const out = join(dir, `${tag}.out.json`)
  await writeFile(file, JSON.stringify(s))
  const args = [
    join(ROOT, 'daemon/bin/iotload.js'),
    'run',
    file,
    '--json',
    out,
    '--db',
    join(dir, `${tag}.db`),
    '--quiet',
  ]
  await exec('node', args, { cwd: ROOT, timeout: 300_000 }).catch((err: { code?: number }) => {
    if (err.code !== 1) throw err // 1: an SLO failed, the run itself is fine
  })
  return JSON.parse(await readFile(out, 'utf8')) as RunSummary
}

const ms = (us: number | undefined) => (us === undefined ? '-' : `${(us / 1000).toFixed(2)} ms`)

function describe(s: RunSummary, rate: number): string {
  const leg = (name: string) => {
    const l = s.streams[name]?.latency.raw
    return l ? `${ms(l.p50)}/${ms(l.p99)}` : '-'
  }
  const e2e = s.streams.e2e!
  return `${sustained(s, rate).detail}; e2e p50/p99 ${leg('e2e')}, co p99 ${ms(e2e.latency.co?.p99)}, legs p50/p99: producer→middle ${leg('producer-bridge')}, inside ${leg('bridge')}, middle→consumer ${leg('bridge-consumer')}, publish-ack ${leg('publish-ack')}`
}

async function camelTrial(dir: string, rate: number): Promise<RunSummary> {
  const root = `bench-camel-${randomUUID().slice(0, 8)}`
  const topics = { from: `${root}-telemetry`, to: `${root}-actions` }
  const route = startCamelRoute({ ...topics, keep: 'envelope', partitions: PARTITIONS, consumers: 4 })
  try {
    const plugin = await loadPlugin('kafka')
    await awaitCamelRoute(
      plugin,
      { url: 'kafka://127.0.0.1:9092', partitions: PARTITIONS },
      route,
      topics.from,
      topics.to,
    )
    return await trial(dir, scenario(rate, topics, 'camel'))
  } finally {
    await route.stop()
  }
}

async function bridgeTrial(dir: string, rate: number): Promise<RunSummary> {
  const root = `bench-bridge-${randomUUID().slice(0, 8)}`
  return trial(dir, scenario(rate, { from: `${root}-telemetry`, to: `${root}-actions` }, 'bridge'))
}

const suite: BenchSuite = {
  name: 'camel',
  requires: [{ name: 'Kafka', host: '127.0.0.1', port: 9092 }],
  async run() {
    if (!jdkAvailable()) throw new Error('no JDK (java, javac) on the PATH')
    await fetchCamel()
    const dir = await mkdtemp(join(tmpdir(), 'iotload-bench-camel-'))
    const figures: BenchFigure[] = []
    for (const rate of [1000, 10_000]) {
      // Interleaved, Camel first: both see the same broker, the same machine, minutes apart.
      const load = () => loadavg()[0]!.toFixed(1)
      const loadCamel = load()
      const camel = await camelTrial(dir, rate)
      const loadBridge = load()
      const bridge = await bridgeTrial(dir, rate)
      const c = camel.streams.e2e!
      const b = bridge.streams.e2e!
      const notes = `Camel route (own JVM, batching consumer, 10 partitions, 4 consumer threads): ${describe(camel, rate)}; load ${loadCamel}. iotload bridge (in the run's process, sharing its event loop with producer and consumer): ${describe(bridge, rate)}; load ${loadBridge}. Seed: ${SEED}. ratio = Camel / bridge (lower is better).`
      for (const stat of ['p50', 'p99'] as const)
        figures.push({
          suite: 'camel',
          metric: `e2e ${stat}, ${rate.toLocaleString('en-US')} msg/s, 100 devices: Kafka → Apache Camel route → Kafka`,
          value: Math.round(c.latency.raw[stat] / 10) / 100,
          unit: 'ms',
          baseline: {
            name: "iotload's bridge on the same Kafka path",
            value: Math.round(b.latency.raw[stat] / 10) / 100,
          },
          ratio: c.latency.raw[stat] / Math.max(1, b.latency.raw[stat]),
          ...(stat === 'p50' ? { notes } : {}),
        })
      figures.push({
        suite: 'camel',
        metric: `received rate at ${rate.toLocaleString('en-US')} msg/s target through Camel`,
        value: c.rate ?? 0,
        unit: 'msg/s',
        baseline: { name: "iotload's bridge on the same Kafka path", value: b.rate ?? 0 },
        ratio: (c.rate ?? 0) / Math.max(1, b.rate ?? 0),
      })
    }
    return figures
  },
}

export default suite
