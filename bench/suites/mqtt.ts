import { randomUUID } from 'node:crypto'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import mqtt, { type MqttClient } from 'mqtt'
import { openConnections, closeAll } from '../../daemon/src/engine/device-connections.ts'
import { createLogger } from '../../daemon/src/log/logger.ts'
import { resolveScenario } from '../../daemon/src/scenario/load-scenario.ts'
import { type FindMaxOutput, findMax, capacityTarget, findMaxNotes, limitOf } from '../lib/find-max.ts'
import { type RawProbe, rawLosslessRate, rawProbe, settle } from '../lib/raw-lossless.ts'
import type { BenchFigure, BenchSuite } from '../lib/types.ts'

const URL = 'mqtt://127.0.0.1:1883'
// `gc` without restarting the bench under --expose-gc: the flag applies to contexts made after it.
setFlagsFromString('--expose-gc')
const collectGarbage = runInNewContext('gc') as () => void
const DEVICES = 10
const MEASURE_S = 5
const WARMUP_S = 1
/** Longest wait for the raw subscriber's last arrivals after publishing stops. */
const RAW_DRAIN_S = 5
const CONNECT_DEVICES = 10_000
const PAYLOAD = JSON.stringify({
  v: 42.42,
  pad: 'x'.repeat(60),
  iotload: { run: 'abcdef012345', dev: 7, seq: 123456, t: 1.7e15, ti: 1.7e15 },
})

/** What the raw client's flat-out run achieved: its arrival rate, and what the broker dropped. */
interface RawCeiling {
  rate: number
  /** Publishes the broker accepted (QoS 1: PUBACKed; QoS 0: written) over the whole run. */
  accepted: number
  /** Of those, never delivered to the subscriber (Mosquitto drops past `max_queued_messages`). */
  lost: number
}

/**
 * DEVICES raw mqtt.js publishers and one subscriber at `qos` on a fresh topic; `counts` tallies
 * the subscriber's arrivals, and the publishes the broker accepted for callers that count them.
 */
async function openRawClients(qos: 0 | 1, kind: string) {
  const topic = `bench/${kind}/${randomUUID().slice(0, 8)}`
  const sub = await mqtt.connectAsync(URL, { protocolVersion: 5 })
  const pubs = await Promise.all(
    Array.from({ length: DEVICES }, () => mqtt.connectAsync(URL, { protocolVersion: 5 })),
  )
  const counts = { received: 0, accepted: 0 }
  sub.on('message', () => counts.received++)
  await sub.subscribeAsync(`${topic}/+`, { qos })
  return { topic, sub, pubs, counts, payload: Buffer.from(PAYLOAD) }
}

/**
 * Raw mqtt.js: DEVICES publisher clients publish as fast as their sockets accept (at most 512
 * unacknowledged or unflushed per client), one subscriber at the same QoS counts arrivals after
 * a warm-up: the client library's own ceiling on this machine. Arrivals are counted whether or
 * not the broker dropped others on the way, so at QoS 1 this rate is not a lossless one.
 */
async function rawMaxRate(qos: 0 | 1): Promise<RawCeiling> {
  const { topic, sub, pubs, counts, payload } = await openRawClients(qos, 'raw')
  let stop = false
  const loops = pubs.map(async (c: MqttClient, i) => {
    let inFlight = 0
    while (!stop) {
      if (inFlight >= 512) {
        await new Promise((r) => setImmediate(r))
        continue
      }
      inFlight++
      c.publish(`${topic}/${i}`, payload, { qos }, (err) => {
        inFlight--
        if (!err) counts.accepted++
      })
      if (inFlight % 64 === 0) await new Promise((r) => setImmediate(r))
    }
  })
  await new Promise((r) => setTimeout(r, WARMUP_S * 1000))
  const start = counts.received
  const t0 = performance.now()
  await new Promise((r) => setTimeout(r, MEASURE_S * 1000))
  const rate = ((counts.received - start) * 1000) / (performance.now() - t0)
  stop = true
  await Promise.all(loops)
  await settle(() => counts.received, RAW_DRAIN_S)
  await Promise.all([sub, ...pubs].map((c) => c.endAsync(true)))
  return { rate, accepted: counts.accepted, lost: Math.max(0, counts.accepted - counts.received) }
}

/**
 * One paced probe of the raw client: DEVICES publishers share `rate` on a 1 ms tick for
 * MEASURE_S, one subscriber at the same QoS; judged as a find-max probe is (`rawProbe`).
 */
async function rawPacedProbe(qos: 0 | 1, rate: number): Promise<RawProbe> {
  const { topic, sub, pubs, counts, payload } = await openRawClients(qos, 'rawpaced')
  let sent = 0
  const t0 = performance.now()
  const end = t0 + MEASURE_S * 1000
  // Open loop: each tick sends what the schedule owes by now, however late the tick runs.
  while (performance.now() < end) {
    const due = Math.floor(((performance.now() - t0) / 1000) * rate)
    for (; sent < due; sent++)
      pubs[sent % DEVICES]!.publish(`${topic}/${sent % DEVICES}`, payload, { qos }, (err) => {
        if (!err) counts.accepted++
      })
    await new Promise((r) => setTimeout(r, 1))
  }
  const onTime = counts.received
  await settle(() => counts.received + counts.accepted, RAW_DRAIN_S)
  await Promise.all([sub, ...pubs].map((c) => c.endAsync(true)))
  return rawProbe({ rate, seconds: MEASURE_S, sent, onTime, ...counts })
}

/** `iotload find-max` through Mosquitto at `qos`, from a sixteenth of the raw ceiling up to twice it. */
function iotloadFindMax(qos: 0 | 1, raw: number, workers: 1 | 'auto' = 1): Promise<FindMaxOutput> {
  const tag = `bench/iot/${randomUUID().slice(0, 8)}`
  return findMax(
    {
      name: `bench-mqtt-qos${qos}`,
      broker: { plugin: 'mqtt', url: URL, version: '5' },
      producer: {
        devices: DEVICES,
        totalRate: '1000/s',
        duration: `${MEASURE_S}s`,
        warmup: `${WARMUP_S}s`,
        topic: `${tag}/{device}`,
        payload: { v: '{float:0:100:2}', pad: 'x'.repeat(60) },
        qos,
      },
      run: { drain: '3s', workers },
    },
    { from: raw / 16, to: raw * 2, probeDuration: `${MEASURE_S}s`, warmup: `${WARMUP_S}s` },
  )
}

/** The raw client's baseline for a lossless capacity, with how it was found. */
interface RawBaseline {
  rate: number
  name: string
  notes: string
}

/**
 * The flat-out ceiling when the broker delivered everything it accepted there; otherwise the raw
 * client's own lossless rate (a paced search), since find-max holds iotload to zero loss.
 */
async function rawBaseline(qos: 0 | 1, ceiling: RawCeiling): Promise<RawBaseline> {
  const flat = `raw mqtt.js flat out (${DEVICES} publishers, 512 unacked each, 1 subscriber): ${Math.round(ceiling.rate).toLocaleString('en-US')} msg/s received, ${ceiling.lost.toLocaleString('en-US')} of ${ceiling.accepted.toLocaleString('en-US')} accepted publishes never delivered`
  if (ceiling.lost === 0)
    return {
      rate: ceiling.rate,
      name: `raw mqtt.js, QoS ${qos}: ${DEVICES} publishers flat out (512 unacked each) + 1 subscriber, lost 0`,
      notes: flat,
    }
  const paced = await rawLosslessRate(ceiling.rate, (rate) => rawPacedProbe(qos, rate))
  return {
    rate: paced.rate,
    name: `raw mqtt.js, QoS ${qos}: highest lossless paced rate, ${DEVICES} publishers + 1 subscriber (flat out it loses)`,
    notes: `${flat}, so the baseline is the raw client's highest rate with nothing lost (paced, 1 ms ticks, the same doubling and 5% bisection as find-max): ${paced.curve}`,
  }
}

/** The capacity figure of one QoS: find-max's sustained rate against the raw client's baseline. */
function capacityFigure(
  qos: 0 | 1,
  raw: RawBaseline,
  r: FindMaxOutput,
  workers: 1 | 'auto' = 1,
  single?: number,
): BenchFigure {
  const best = r.sustainedRate ?? 0
  const ratio = raw.rate > 0 ? best / raw.rate : 0
  const floor = qos === 0 ? 0.9 : 0.8
  return {
    suite: 'mqtt',
    metric: `max sustained e2e rate through Mosquitto, QoS ${qos}, ${DEVICES} devices${workers === 1 ? '' : `, workers: ${workers}`} (find-max)`,
    limitedBy: limitOf(r),
    value: Math.round(best),
    unit: 'msg/s',
    baseline: { name: raw.name, value: Math.round(raw.rate) },
    ratio: Number(ratio.toFixed(3)),
    ...capacityTarget(floor, ratio, single, r),
    notes: `${findMaxNotes(r)}. Baseline: ${raw.notes}`,
  }
}

/**
 * RSS after a full garbage collection: without one, what earlier measurements in this process left
 * for the collector decides the growth (the same 10,000 connections read 13 MiB in one run and
 * 207 MiB in the next).
 */
function settledRss(): number {
  collectGarbage()
  collectGarbage()
  return process.memoryUsage().rss
}

async function rawConnect(count: number): Promise<{ ms: number; rssMb: number }> {
  const rss0 = settledRss()
  const t0 = performance.now()
  const clients: MqttClient[] = []
  let next = 0
  await Promise.all(
    Array.from({ length: 200 }, async () => {
      while (next < count) {
        next++
        clients.push(await mqtt.connectAsync(URL, { protocolVersion: 5, reconnectPeriod: 0 }))
      }
    }),
  )
  const ms = performance.now() - t0
  const rssMb = (settledRss() - rss0) / 2 ** 20
  await Promise.all(clients.map((c) => c.endAsync(true)))
  return { ms, rssMb }
}

async function iotloadConnect(count: number): Promise<{ ms: number; rssMb: number }> {
  const resolved = await resolveScenario(
    {
      broker: { plugin: 'mqtt', url: URL, version: '5' },
      producer: { devices: count, rate: '1/s', duration: '1s' },
    },
    { env: {} },
  )
  const rss0 = settledRss()
  const opened = await openConnections({
    broker: resolved.broker,
    role: 'producer',
    runId: randomUUID().slice(0, 8),
    count,
    deviceOf: (i) => i,
    clientIdTemplate: 'bench-{run}-{device}',
    concurrency: 200,
    logger: createLogger({ level: 'error' }),
    onStatus: () => {},
  })
  const rssMb = (settledRss() - rss0) / 2 ** 20
  if (opened.failed > 0)
    throw new Error(`${opened.failed} of ${count} connections failed: ${String(opened.firstError)}`)
  await closeAll(opened.connections)
  return { ms: opened.elapsedMs, rssMb }
}

const suite: BenchSuite = {
  name: 'mqtt',
  requires: [{ name: 'Mosquitto', host: '127.0.0.1', port: 1883 }],
  async run(): Promise<BenchFigure[]> {
    const figures: BenchFigure[] = []
    for (const qos of [0, 1] as const) {
      const ceiling = await rawMaxRate(qos)
      const raw = await rawBaseline(qos, ceiling)
      const one = capacityFigure(qos, raw, await iotloadFindMax(qos, ceiling.rate))
      figures.push(one)
      if (qos === 0)
        figures.push(capacityFigure(0, raw, await iotloadFindMax(0, ceiling.rate, 'auto'), 'auto', one.ratio))
    }
    const rawConn = await rawConnect(CONNECT_DEVICES)
    const iotConn = await iotloadConnect(CONNECT_DEVICES)
    return [
      ...figures,
      {
        suite: 'mqtt',
        metric: `time to connect ${CONNECT_DEVICES.toLocaleString('en-US')} devices (MQTT 5, 200 at a time)`,
        value: Math.round(iotConn.ms),
        unit: 'ms',
        baseline: { name: 'raw mqtt.js connectAsync, 200 at a time', value: Math.round(rawConn.ms) },
        ratio: Number((rawConn.ms / iotConn.ms).toFixed(3)),
        notes: `ratio = raw time / iotload time (higher is better). RSS growth after connecting: iotload ${iotConn.rssMb.toFixed(0)} MiB, raw mqtt.js ${rawConn.rssMb.toFixed(0)} MiB`,
      },
      {
        suite: 'mqtt',
        metric: `RSS growth after connecting ${CONNECT_DEVICES.toLocaleString('en-US')} devices`,
        value: Math.round(iotConn.rssMb),
        unit: 'MiB',
        baseline: { name: 'raw mqtt.js clients', value: Math.round(rawConn.rssMb) },
        ratio: Number((rawConn.rssMb / Math.max(1, iotConn.rssMb)).toFixed(3)),
        notes: 'ratio = raw / iotload (higher is better); per device ≈ value / 10,000',
      },
    ]
  },
}

export default suite
