import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { existsSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { BrokerConnection, PluginLogger } from '@iotload/sdk'
import kafka from '@iotload/broker-kafka'
import type { BenchFigure, BenchSuite } from '../lib/types.ts'

const BOOTSTRAP = '127.0.0.1:9092'
const RECORD_BYTES = 128
/** Messages of the one-at-a-time latency comparison. */
const LATENCY_MESSAGES = 2000
/** Records of the producer throughput comparison. */
const THROUGHPUT_RECORDS = 200_000
/** Interleaved rounds of the throughput comparison; the best of each side counts. */
const ROUNDS = 2
/** Publishes the plugin keeps in flight in the throughput loop (it sends them in batches of up to 1000). */
const WINDOW = 5000
const CACHE = process.env.IOTLOAD_CACHE ?? join(homedir(), '.cache', 'iotload')
const JARS = join(CACHE, `kafka-${process.env.KAFKA_VERSION ?? '4.1.1'}`, 'jars')
const TOOLS_LOG4J = join(CACHE, 'kafka-run', 'tools-log4j2.properties')
const exec = promisify(execFile)

const quiet: PluginLogger = { debug() {}, info() {}, warn() {}, error() {} }

/** Runs one of Kafka's own tools (from the jars kafka.sh downloaded) and returns its stdout. */
async function kafkaTool(mainClass: string, args: string[]): Promise<string> {
  const jvm = ['-Xmx512m', '-cp', `${JARS}/*`]
  if (existsSync(TOOLS_LOG4J)) jvm.push(`-Dlog4j2.configurationFile=${TOOLS_LOG4J}`)
  const { stdout } = await exec('java', [...jvm, mainClass, ...args], {
    timeout: 300_000,
    maxBuffer: 1 << 24,
  })
  return stdout
}

async function open(role: 'producer' | 'consumer', raw: Record<string, unknown>): Promise<BrokerConnection> {
  const config = kafka.configSchema.parse({ url: `kafka://${BOOTSTRAP}`, ...raw })
  return kafka.connect(config, { role, clientId: `bench-${role}-${randomUUID().slice(0, 8)}`, logger: quiet })
}

/** Kafka's EndToEndLatency: one record at a time, acks=1, consumer polls for it. Average in ms. */
async function javaLatency(): Promise<{ avgMs: number; percentiles: string }> {
  const topic = `bench-e2e-java-${randomUUID().slice(0, 8)}`
  const out = await kafkaTool('org.apache.kafka.tools.EndToEndLatency', [
    BOOTSTRAP,
    topic,
    String(LATENCY_MESSAGES),
    '1',
    String(RECORD_BYTES),
  ])
  const avg = /Avg latency: ([\d.]+) ms/.exec(out)
  if (!avg) throw new Error(`unexpected EndToEndLatency output: ${out.slice(-300)}`)
  const pct = /Percentiles: (.*)/.exec(out)?.[1]?.trim() ?? ''
  return { avgMs: Number(avg[1]), percentiles: pct ? `${pct} (whole ms)` : 'no percentiles printed' }
}

/** The same pattern through the plugin: publish (acks 1), wait for the consumer to get it, repeat. */
async function pluginLatency(): Promise<{ avgMs: number; p50Ms: number; p99Ms: number }> {
  const topic = `bench-e2e-plugin-${randomUUID().slice(0, 8)}`
  const sub = await open('consumer', { fetchMaxWait: '500ms' })
  const pub = await open('producer', { acks: 1 })
  try {
    let arrived: (() => void) | undefined
    await sub.subscribe(topic, () => arrived?.())
    const payload = Buffer.alloc(RECORD_BYTES, 7)
    const samples: number[] = []
    // Like EndToEndLatency, the first messages warm up connections and JIT; they count too.
    for (let i = 0; i < LATENCY_MESSAGES; i++) {
      const got = new Promise<void>((resolve) => {
        arrived = resolve
      })
      const t0 = performance.now()
      await pub.publish(topic, { payload, key: 'bench' })
      await got
      samples.push(performance.now() - t0)
    }
    samples.sort((a, b) => a - b)
    const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] ?? 0
    return { avgMs: samples.reduce((s, v) => s + v, 0) / samples.length, p50Ms: at(0.5), p99Ms: at(0.99) }
  } finally {
    await Promise.all([sub.close(), pub.close()])
  }
}

/** Kafka's ProducerPerformance, unthrottled, acks=1: records per second. */
async function javaProducerRate(): Promise<number> {
  const topic = `bench-pp-java-${randomUUID().slice(0, 8)}`
  const out = await kafkaTool('org.apache.kafka.tools.ProducerPerformance', [
    '--topic',
    topic,
    '--num-records',
    String(THROUGHPUT_RECORDS),
    '--record-size',
    String(RECORD_BYTES),
    '--throughput',
    '-1',
    '--producer-props',
    `bootstrap.servers=${BOOTSTRAP}`,
    'acks=1',
  ])
  const last = out.trim().split('\n').at(-1) ?? ''
  const rate = /records sent, ([\d.]+) records\/sec/.exec(last)
  if (!rate) throw new Error(`unexpected ProducerPerformance output: ${last}`)
  return Number(rate[1])
}

/** The plugin on one connection, `WINDOW` publishes in flight, acks 1: acknowledged records per second. */
async function pluginProducerRate(): Promise<number> {
  const topic = `bench-pp-plugin-${randomUUID().slice(0, 8)}`
  const pub = await open('producer', { acks: 1 })
  try {
    const payload = Buffer.alloc(RECORD_BYTES, 7)
    await pub.publish(topic, { payload }) // creates the topic outside the timed part
    const keys = Array.from({ length: 100 }, (_, i) => `dev-${i}`)
    // A counted window with one wake-up, like the Java producer's bounded buffer and callbacks
    // (a Promise.race over thousands of pending publishes cost the harness more than the plugin).
    let inFlight = 0
    let failed: unknown
    let wake: (() => void) | undefined
    const settled = () => {
      inFlight--
      if (wake && (inFlight < WINDOW / 2 || inFlight === 0)) {
        const w = wake
        wake = undefined
        w()
      }
    }
    const failedOne = (err: unknown) => {
      failed ??= err
      settled()
    }
    const t0 = performance.now()
    for (let i = 0; i < THROUGHPUT_RECORDS; i++) {
      inFlight++
      pub.publish(topic, { payload, key: keys[i % 100] }).then(settled, failedOne)
      if (inFlight >= WINDOW)
        await new Promise<void>((r) => {
          wake = r
        })
    }
    while (inFlight > 0)
      await new Promise<void>((r) => {
        wake = r
      })
    if (failed) throw failed
    return (THROUGHPUT_RECORDS * 1000) / (performance.now() - t0)
  } finally {
    await pub.close()
  }
}

/**
 * The Kafka plugin (kafkajs) against Kafka's own Java tools on the same broker in the same run:
 * EndToEndLatency for one-at-a-time latency, ProducerPerformance for producer throughput.
 */
const suite: BenchSuite = {
  name: 'kafka',
  requires: [{ name: 'Kafka', host: '127.0.0.1', port: 9092 }],
  async run(): Promise<BenchFigure[]> {
    if (!existsSync(JARS))
      throw new Error(`Kafka jars not found in ${JARS}: run bash scripts/services/kafka.sh start`)
    const java = await javaLatency()
    const javaAvg = java.avgMs
    const plugin = await pluginLatency()
    // Best of two interleaved rounds each: one slow round on a shared 2-core machine (another
    // process's burst) would otherwise decide the ratio.
    const javaRates: number[] = []
    const pluginRates: number[] = []
    for (let round = 0; round < ROUNDS; round++) {
      javaRates.push(await javaProducerRate())
      pluginRates.push(await pluginProducerRate())
    }
    const javaRate = Math.max(...javaRates)
    const pluginRate = Math.max(...pluginRates)
    const latencyRatio = plugin.avgMs / javaAvg
    const rateRatio = pluginRate / javaRate
    return [
      {
        suite: 'kafka',
        metric: `one-at-a-time e2e latency, avg of ${LATENCY_MESSAGES} × ${RECORD_BYTES} B, acks 1`,
        value: Number(plugin.avgMs.toFixed(3)),
        unit: 'ms',
        baseline: { name: 'Kafka EndToEndLatency (Java client)', value: Number(javaAvg.toFixed(3)) },
        ratio: Number(latencyRatio.toFixed(3)),
        target: '≤ 1.5 (plugin / Java)',
        met: latencyRatio <= 1.5,
        notes: `lower is better, ratio = plugin / Java; plugin p50 ${plugin.p50Ms.toFixed(2)} ms, p99 ${plugin.p99Ms.toFixed(2)} ms; Java ${java.percentiles}. The consumer commits every 2 s off the fetch path: kafkajs' own auto-commit (an OffsetCommit round trip after every batch, before the next fetch) made this 4.35× (7.0 vs 1.6 ms) on 2026-11-26`,
      },
      {
        suite: 'kafka',
        metric: `producer throughput, ${THROUGHPUT_RECORDS.toLocaleString('en-US')} × ${RECORD_BYTES} B, acks 1, one connection`,
        value: Math.round(pluginRate),
        unit: 'msg/s',
        baseline: {
          name: 'Kafka ProducerPerformance (Java client, unthrottled)',
          value: Math.round(javaRate),
        },
        ratio: Number(rateRatio.toFixed(3)),
        target: '≥ 0.8',
        met: rateRatio >= 0.8,
        notes: `best of ${ROUNDS} interleaved rounds each (Java ${javaRates.map(Math.round).join(', ')}; plugin ${pluginRates.map(Math.round).join(', ')} msg/s); plugin keeps up to ${WINDOW} publishes in flight, sent as one request at a time (batchSize 10000, ~900 kB)`,
      },
    ]
  },
}

export default suite
