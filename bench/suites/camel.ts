import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtemp, readFile, writeFile } from 'node:fs/promises'
import { homedir, loadavg, tmpdir } from 'node:os'
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
import type { BenchFigure, BenchSuite } from '../lib/types.ts'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const exec = promisify(execFile)
const PARTITIONS = 10
const DEVICES = 100
/** The seed's published figure for Kafka + Camel at 10k msg/s (IOT_load_test_client README). */
const SEED = '5–15 ms end to end at 10k msg/s (seed README, "Apache Kafka + CAMEL", 8-core VMs)'

/** The path both trials share: 100 devices on 10 shared Kafka connections, one keyed topic each way. */
function scenario(rate: number, topics: { from: string; to: string }, middle: 'camel' | 'bridge' | 'direct') {
  return {
    name: `bench camel: ${middle} at ${rate}/s`,
    broker: { plugin: 'kafka', url: 'kafka://127.0.0.1:9092', partitions: PARTITIONS, acks: 'all' },
    producer: {
      devices: DEVICES,
      rate: `${rate / DEVICES}/s`,
      duration: rate >= 10_000 ? '15s' : '20s',
      warmup: '10s', // the route's JIT (and iotload's) settles before anything counts
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

/** CPU seconds a process has used so far (utime + stime from /proc), 0 when it cannot be read. */
async function cpuSeconds(pid: number | undefined): Promise<number> {
  if (!pid) return 0
  try {
    const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100 // clock ticks: 100 per second on Linux
  } catch {
    return 0
  }
}

async function kafkaPid(): Promise<number | undefined> {
  const cache = process.env.IOTLOAD_CACHE ?? join(homedir(), '.cache', 'iotload')
  return readFile(join(cache, 'kafka-run', 'kafka.pid'), 'utf8').then(
    (t) => Number(t.trim()),
    () => undefined,
  )
}

/** CPU share (cores) of the Kafka broker and of `pid` over `fn`, with its result. */
async function withCpu<T>(
  pid: number | undefined,
  fn: () => Promise<T>,
): Promise<{ result: T; kafka: number; other: number }> {
  const kafka = await kafkaPid()
  const [k0, o0, t0] = [await cpuSeconds(kafka), await cpuSeconds(pid), performance.now()]
  const result = await fn()
  const secs = (performance.now() - t0) / 1000
  return {
    result,
    kafka: ((await cpuSeconds(kafka)) - k0) / secs,
    other: ((await cpuSeconds(pid)) - o0) / secs,
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
  return `${trialDetail(s, rate)}; e2e p50/p99 ${leg('e2e')}, co p99 ${ms(e2e.latency.co?.p99)}, legs p50/p99: producer→middle ${leg('producer-bridge')}, inside ${leg('bridge')}, middle→consumer ${leg('bridge-consumer')}, publish-ack ${leg('publish-ack')}`
}

interface Trial {
  summary: RunSummary
  /** Cores the Kafka broker and the Camel JVM used during the run (warm-up and drain included). */
  kafkaCores: number
  camelCores: number
  load: string
}

async function camelTrial(dir: string, rate: number): Promise<Trial> {
  const root = `bench-camel-${randomUUID().slice(0, 8)}`
  const topics = { from: `${root}-telemetry`, to: `${root}-actions` }
  const route = startCamelRoute({ ...topics, keep: 'envelope', partitions: PARTITIONS, consumers: 4 })
  try {
    const plugin = await loadPlugin('kafka')
    const config = { url: 'kafka://127.0.0.1:9092', partitions: PARTITIONS }
    await awaitCamelRoute(plugin, config, route, topics.from, topics.to)
    const load = loadavg()[0]!.toFixed(1)
    const t = await withCpu(route.process.pid, () => trial(dir, scenario(rate, topics, 'camel')))
    return { summary: t.result, kafkaCores: t.kafka, camelCores: t.other, load }
  } finally {
    await route.stop()
  }
}

/** iotload's bridge in the middle, or nothing (`direct`: the consumer reads the producer's topic). */
async function iotloadTrial(dir: string, rate: number, middle: 'bridge' | 'direct'): Promise<Trial> {
  const root = `bench-${middle}-${randomUUID().slice(0, 8)}`
  const topics = {
    from: `${root}-telemetry`,
    to: middle === 'direct' ? `${root}-telemetry` : `${root}-actions`,
  }
  const load = loadavg()[0]!.toFixed(1)
  const t = await withCpu(undefined, () => trial(dir, scenario(rate, topics, middle)))
  return { summary: t.result, kafkaCores: t.kafka, camelCores: 0, load }
}

/**
 * Where the time went and who set the limit: iotload's own verdict (generator-limited), Kafka's
 * acknowledgement time, the leg that holds most of the median, and CPU.
 */
function verdict(t: Trial, middle: string): string {
  const s = t.summary
  const p50 = (name: string) => s.streams[name]?.latency.raw.p50 ?? 0
  const legs: Array<[string, number]> = [
    [`producer → ${middle} (Kafka in, ${middle}'s consumer)`, p50('producer-bridge')],
    [`inside ${middle}`, p50('bridge')],
    [`${middle} → consumer (${middle}'s producer, Kafka out, iotload's consumer)`, p50('bridge-consumer')],
  ]
  const slowest = [...legs].sort((a, b) => b[1] - a[1])[0]!
  return [
    s.generatorLimited
      ? 'iotload was generator-limited (the figures describe the load generator as much as the path)'
      : 'iotload kept its schedule',
    `Kafka's publish-ack p50 ${ms(p50('publish-ack'))}`,
    slowest[1] > 0 ? `most of the median in ${slowest[0]} (${ms(slowest[1])})` : `e2e p50 ${ms(p50('e2e'))}`,
    `CPU: Kafka ${t.kafkaCores.toFixed(2)} cores${middle === 'Camel' ? `, Camel JVM ${t.camelCores.toFixed(2)} cores` : ''}`,
    `machine load ${t.load} on 2 cores`,
  ].join('; ')
}

/** The comparison in a sentence or two, with who set the limit. */
function inWords(rate: number, camel: Trial, bridge: Trial, direct: Trial): string {
  const p50 = (t: Trial) => t.summary.streams.e2e?.latency.raw.p50 ?? 0
  const received = camel.summary.streams.e2e?.rate ?? 0
  const head = `In words: at ${rate.toLocaleString('en-US')} msg/s the Camel path's median was ${ms(p50(camel))} (iotload's bridge ${ms(p50(bridge))}, nothing in the middle ${ms(p50(direct))}), against the seed's 5–15 ms at 10k msg/s on 8-core VMs.`
  let limit: string
  if (received < rate * 0.97) limit = `Camel did not keep up: ${Math.round(received)} msg/s came back.`
  else if (direct.summary.generatorLimited)
    limit = `iotload was generator-limited even with nothing in the middle (${direct.summary.generator?.reasons[0] ?? ''}): on this machine the load generator, on the CPU it shares with Kafka (and Camel, and whatever else runs), sets the limit before Camel does; Camel added ${ms(p50(camel) - p50(direct))} to the median.`
  else if (camel.summary.generatorLimited)
    limit = `iotload kept its schedule alone but not next to the Camel JVM: the two cores are the limit; Camel added ${ms(p50(camel) - p50(direct))} to the median.`
  else
    limit = `Nothing was limited: Camel added ${ms(p50(camel) - p50(direct))} to the median of Kafka alone.`
  return `${head} ${limit}`
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
      // Interleaved: all three see the same broker and machine, a minute or two apart. `direct`
      // (no middle: Kafka and iotload alone) is the floor both paths stand on.
      const camel = await camelTrial(dir, rate)
      const bridge = await iotloadTrial(dir, rate, 'bridge')
      const direct = await iotloadTrial(dir, rate, 'direct')
      const c = camel.summary.streams.e2e!
      const b = bridge.summary.streams.e2e!
      const notes = `Camel route (own JVM, SEDA pipeline: per-record transform, one ordered async sender; 10 partitions, 4 consumer threads): ${describe(camel.summary, rate)}. iotload bridge (in the run's process, sharing its event loop with producer and consumer): ${describe(bridge.summary, rate)}. ratio = Camel / bridge (lower is better). No middle at all (producer → Kafka → consumer, the floor): ${describe(direct.summary, rate)}. Seed: ${SEED}.`
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
        notes: `${inWords(rate, camel, bridge, direct)} Where the limit is: Camel run: ${verdict(camel, 'Camel')}. Bridge run: ${verdict(bridge, 'the bridge')}. No middle: ${verdict(direct, 'nothing')}.`,
      })
    }
    return figures
  },
}

export default suite

/** One line on a trial: target, achieved send and receive rates, loss and the generator's verdict. */
function trialDetail(summary: RunSummary, targetRate: number): string {
  const e2e = summary.streams.e2e
  const g = summary.generator
  return `${Math.round(targetRate)}/s → sent ${Math.round(g?.achievedSendRate ?? 0)}/s, recv ${Math.round(e2e?.rate ?? 0)}/s, lost ${e2e?.lost}${summary.generatorLimited ? `, generator-limited (${g?.reasons.join('; ')})` : ''}`
}
