import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { readdir } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { BrokerConnection, PluginLogger } from '@iotload/sdk'
import { type FindMaxOutput, findMax, findMaxNotes, limitOf } from '../lib/find-max.ts'
import type { BenchFigure, BenchSuite } from '../lib/types.ts'

/** Producer connections on both sides: plugin connections vs pulsar-perf producers. */
const PRODUCERS = 10
const PAYLOAD_BYTES = 128
/** Unacked publishes per producer (pulsar-perf `-o`). */
const WINDOW = 256
const MEASURE_S = 10
const WARMUP_S = 5
const run = promisify(execFile)
const silent: PluginLogger = { debug() {}, info() {}, warn() {}, error() {} }

interface Rates {
  /** Acked publishes per second. */
  produce: number
  /** Messages received per second by one consumer on the same topic, over the same window. */
  e2e: number
}

/** The distribution scripts/services/pulsar.sh unpacked (PULSAR_HOME wins). */
async function pulsarHome(): Promise<string> {
  if (process.env.PULSAR_HOME) return process.env.PULSAR_HOME
  const cache = process.env.IOTLOAD_CACHE ?? join(homedir(), '.cache', 'iotload')
  const dirs = (await readdir(cache).catch(() => [] as string[])).filter((d) =>
    d.startsWith('apache-pulsar-'),
  )
  const newest = dirs.sort().at(-1)
  if (!newest) throw new Error(`no apache-pulsar-* in ${cache}: run scripts/services/pulsar.sh start`)
  return join(cache, newest)
}

/** pulsar-perf's JVM needs time to JIT on two busy cores: it runs longer and is sampled late. */
const PERF_SECONDS = 30
const PERF_SKIP_S = 10

interface Counters {
  /** Messages the broker accepted on the topic. */
  in: number
  /** Messages the broker dispatched to the topic's subscriptions. */
  out: number
  at: number
}

/** The broker's own counters for a topic in public/default: both sides are measured the same way. */
async function counters(local: string): Promise<Counters> {
  const res = await fetch(`http://127.0.0.1:8080/admin/v2/persistent/public/default/${local}/stats`)
  if (!res.ok) throw new Error(`topic stats for ${local}: HTTP ${res.status}`)
  const stats = (await res.json()) as {
    msgInCounter: number
    subscriptions: Record<string, { msgOutCounter: number }>
  }
  const out = Object.values(stats.subscriptions).reduce((n, s) => n + s.msgOutCounter, 0)
  return { in: stats.msgInCounter, out, at: performance.now() }
}

function ratesBetween(a: Counters, b: Counters): Rates {
  const seconds = (b.at - a.at) / 1000
  return { produce: (b.in - a.in) / seconds, e2e: (b.out - a.out) / seconds }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function until(check: () => Promise<boolean>, what: string, ms = 90_000): Promise<void> {
  const end = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await sleep(250)
  }
}

/**
 * Baseline: Pulsar's own Java client through `bin/pulsar-perf` on the binary protocol (6650),
 * batching off like the WebSocket producers, `PRODUCERS` producers with `WINDOW` outstanding each,
 * and one consumer started first on the same topic; sampled from broker counters after JIT warm-up.
 */
async function perfRates(rate = 1_000_000): Promise<Rates> {
  const home = await pulsarHome()
  const local = `bench-perf-${randomUUID().slice(0, 8)}`
  const topic = `persistent://public/default/${local}`
  const env = {
    ...process.env,
    PULSAR_MEM: '-Xms64m -Xmx256m',
    PULSAR_LOG_DIR: join(home, '..', 'pulsar-perf-logs'),
  }
  const perf = join(home, 'bin', 'pulsar-perf')
  const options = { env, maxBuffer: 64 << 20, timeout: 180_000 }
  const common = ['-u', 'pulsar://127.0.0.1:6650']
  const consumer = run(
    perf,
    ['consume', ...common, '-ss', 'bench', '-time', String(PERF_SECONDS + 30), topic],
    options,
  )
  // JVM start-up takes many seconds on two busy cores: wait for the subscription, then for traffic.
  await until(
    async () => (await counters(local).catch(() => undefined)) !== undefined,
    'pulsar-perf consume to subscribe',
  )
  const producer = run(
    perf,
    [
      'produce',
      ...common,
      '-db',
      '-r',
      String(Math.round(rate)),
      '-n',
      String(PRODUCERS),
      '-o',
      String(WINDOW),
      '-s',
      String(PAYLOAD_BYTES),
      '-time',
      String(PERF_SECONDS),
      topic,
    ],
    options,
  )
  await until(async () => (await counters(local)).in > 0, 'pulsar-perf produce to send')
  await sleep(PERF_SKIP_S * 1000)
  const a = await counters(local)
  await sleep(MEASURE_S * 1000)
  const b = await counters(local)
  await Promise.all([producer, consumer])
  return ratesBetween(a, b)
}

/**
 * The same load through @iotload/broker-pulsar, over the WebSocket API (JSON frames, base64
 * payloads) or the binary protocol (its own client), by the URL's scheme.
 */
async function pluginRates(url: string): Promise<Rates> {
  const { pulsarPlugin, pulsarConfigSchema } = await import('@iotload/broker-pulsar')
  const config = pulsarConfigSchema.parse({ url, receiverQueueSize: 1000 })
  const topic = `bench-plugin-${randomUUID().slice(0, 8)}`
  const open = (role: 'producer' | 'consumer', i: number) =>
    pulsarPlugin.connect(config, { role, clientId: `bench-${role}-${i}-${topic}`, logger: silent })
  const consumer = await open('consumer', 0)
  const producers: BrokerConnection[] = []
  let stop = false
  try {
    await consumer.subscribe(topic, () => undefined)
    for (let i = 0; i < PRODUCERS; i++) producers.push(await open('producer', i))
    const payload = new Uint8Array(PAYLOAD_BYTES).fill(7)
    const loops = producers.map(async (p) => {
      const window: Promise<void>[] = []
      while (!stop) {
        window.push(p.publish(topic, { payload, qos: 1 }))
        if (window.length >= WINDOW) await Promise.all(window.splice(0))
      }
      await Promise.all(window)
    })
    await sleep(WARMUP_S * 1000)
    const a = await counters(topic)
    await sleep(MEASURE_S * 1000)
    const b = await counters(topic)
    const rates = ratesBetween(a, b)
    stop = true
    await Promise.all(loops)
    return rates
  } finally {
    stop = true
    await Promise.all([consumer, ...producers].map((c) => c.close().catch(() => undefined)))
  }
}

/**
 * `iotload find-max` over pulsar://: 10 devices publishing (QoS 1, acked) to one topic keyed by
 * device, one consumer, from a sixteenth of `upTo` (pulsar-perf's publish rate) up to it.
 */
function iotloadFindMax(upTo: number): Promise<FindMaxOutput> {
  const topic = `bench-find-${randomUUID().slice(0, 8)}`
  return findMax(
    {
      name: 'bench-pulsar-binary',
      // A window of 5000 (the example's): on one event loop with the producers, 1000 permits
      // ran dry between top-ups at 50k msg/s.
      broker: { plugin: 'pulsar', url: 'pulsar://127.0.0.1:6650', receiverQueueSize: 5000 },
      producer: {
        devices: PRODUCERS,
        totalRate: '1000/s',
        duration: `${MEASURE_S}s`,
        warmup: '2s',
        topic,
        payload: { v: '{float:0:100:2}', pad: 'x'.repeat(PAYLOAD_BYTES - 80) },
        envelope: 'json',
        qos: 1,
      },
      consumer: { topic },
      run: { drain: '3s' },
    },
    { from: upTo / 16, to: upTo, probeDuration: '6s', warmup: '2s' },
  )
}

/** What is known of pulsar-perf's sustainable end-to-end rate, against iotload's `best`. */
interface PerfBound {
  name: string
  /** An upper bound of pulsar-perf's sustainable rate, or the rate it sustained. */
  value: number
  met: boolean
  note: string
}

async function perfBound(best: number, flatOut: Rates): Promise<PerfBound> {
  const flat = `flat out pulsar-perf published ${Math.round(flatOut.produce)}/s and delivered ${Math.round(flatOut.e2e)}/s`
  const probeRate = best / 0.6
  if (best <= 0) return { name: 'pulsar-perf', value: 0, met: false, note: flat }
  if (probeRate >= flatOut.produce)
    return {
      name: "pulsar-perf's flat-out publish rate (an upper bound of its sustainable e2e rate; the ratio is a lower bound)",
      value: flatOut.produce,
      met: best >= 0.6 * flatOut.produce,
      note: `${flat}; iotload's max / 0.6 (${Math.round(probeRate)}/s) is above what pulsar-perf can publish at all, so no fixed-rate probe was needed`,
    }
  const probe = await perfRates(probeRate)
  const sustained = probe.e2e >= 0.97 * probeRate
  return {
    name: sustained
      ? `pulsar-perf sustained a fixed ${Math.round(probeRate)} msg/s end to end (iotload's max / 0.6)`
      : `pulsar-perf did not sustain a fixed ${Math.round(probeRate)} msg/s end to end (iotload's max / 0.6; an upper bound, the ratio is a lower bound)`,
    value: probeRate,
    met: !sustained,
    note: `${flat}; at a fixed ${Math.round(probeRate)}/s it published ${Math.round(probe.produce)}/s and delivered ${Math.round(probe.e2e)}/s`,
  }
}

/**
 * @iotload/broker-pulsar over the binary protocol (pulsar://) and over the WebSocket API against
 * Pulsar's own `pulsar-perf` (binary protocol, Java client) on the same standalone broker in the
 * same run: acked publish rate and end-to-end rate, as ratios. The WebSocket path adds JSON +
 * base64 on both ends and a proxy hop in the broker.
 */
const suite: BenchSuite = {
  name: 'pulsar',
  requires: [
    { name: 'Pulsar WebSocket API', host: '127.0.0.1', port: 8080 },
    { name: 'Pulsar binary protocol', host: '127.0.0.1', port: 6650 },
  ],
  async run(): Promise<BenchFigure[]> {
    const perf = await perfRates()
    const binary = await pluginRates('pulsar://127.0.0.1:6650')
    const ws = await pluginRates('ws://127.0.0.1:8080')
    const notes = `${PRODUCERS} producers × ${WINDOW} unacked, ${PAYLOAD_BYTES} B, persistent topic, no batching, plugin ${MEASURE_S}s after ${WARMUP_S}s warm-up, pulsar-perf ${MEASURE_S}s after ${PERF_SKIP_S}s (JIT); both from the broker's topic counters`
    const figure = (metric: string, value: number, base: number): BenchFigure => ({
      suite: 'pulsar',
      metric,
      value: Math.round(value),
      unit: 'msg/s',
      baseline: { name: 'pulsar-perf (binary protocol)', value: Math.round(base) },
      ratio: base > 0 ? Number((value / base).toFixed(3)) : 0,
      notes,
    })
    const found = await iotloadFindMax(Math.max(perf.produce, perf.e2e))
    const best = found.sustainedRate ?? 0
    // Flat out, pulsar-perf's consumer either keeps up or falls more than the broker's 1 s entry
    // cache behind and drops to BookKeeper reads (~15–20k msg/s here), so its flat-out e2e figure is
    // bimodal, not its sustainable rate. That rate is bounded instead: it cannot exceed pulsar-perf's
    // flat-out publish rate; and if iotload's max / 0.6 is below that, pulsar-perf runs once at that
    // fixed rate: sustained means iotload is below 0.6 of it, not sustained means above.
    const bound = await perfBound(best, perf)
    return [
      figure('acked publish rate, plugin over the binary protocol (pulsar://)', binary.produce, perf.produce),
      {
        suite: 'pulsar',
        metric: `max sustained e2e rate, binary protocol (pulsar://), ${PRODUCERS} devices, QoS 1 (find-max)`,
        limitedBy: limitOf(found),
        value: Math.round(best),
        unit: 'msg/s',
        baseline: { name: bound.name, value: Math.round(bound.value) },
        ratio: bound.value > 0 ? Number((best / bound.value).toFixed(3)) : 0,
        target: "≥ 0.6 of pulsar-perf's sustainable e2e rate (issue #20)",
        met: best > 0 && bound.met,
        notes: `iotload's own binary-protocol client (plugins/broker-pulsar/src/binary), receiverQueueSize 5000, workers: 1; searched up to pulsar-perf's publish rate. ${bound.note}. ${findMaxNotes(found)}`,
      },
      {
        ...figure(
          'end-to-end rate (publish → one consumer, flat out), plugin over the binary protocol (pulsar://)',
          binary.e2e,
          perf.e2e,
        ),
        notes: `${notes}. Flat out, the plugin's 10 producers outrun its one consumer in the same process; once that consumer is more than the broker's 1 s entry cache behind, delivery drops to BookKeeper reads (~15–20k msg/s here, for pulsar-perf's consumer too). The find-max figure is the sustainable rate`,
      },
      figure('acked publish rate, plugin over WebSocket', ws.produce, perf.produce),
      figure('end-to-end rate (publish → one consumer, flat out), plugin over WebSocket', ws.e2e, perf.e2e),
    ]
  },
}

export default suite
