import { randomUUID } from 'node:crypto'
import mqtt, { type MqttClient } from 'mqtt'
import { openConnections, closeAll } from '../../daemon/src/engine/device-connections.ts'
import { createLogger } from '../../daemon/src/log/logger.ts'
import { resolveScenario } from '../../daemon/src/scenario/load-scenario.ts'
import { type FindMaxOutput, findMax, findMaxNotes, limitOf } from '../lib/find-max.ts'
import type { BenchFigure, BenchSuite } from '../lib/types.ts'

const URL = 'mqtt://127.0.0.1:1883'
const DEVICES = 10
const MEASURE_S = 5
const WARMUP_S = 1
const CONNECT_DEVICES = 10_000
const PAYLOAD = JSON.stringify({
  v: 42.42,
  pad: 'x'.repeat(60),
  iotload: { run: 'abcdef012345', dev: 7, seq: 123456, t: 1.7e15, ti: 1.7e15 },
})

/**
 * Raw mqtt.js: DEVICES publisher clients publish as fast as their sockets accept (at most 512
 * unacknowledged or unflushed per client), one subscriber at the same QoS counts arrivals after
 * a warm-up: the client library's own ceiling on this machine.
 */
async function rawMaxRate(qos: 0 | 1): Promise<number> {
  const topic = `bench/raw/${randomUUID().slice(0, 8)}`
  const sub = await mqtt.connectAsync(URL, { protocolVersion: 5 })
  const pubs = await Promise.all(
    Array.from({ length: DEVICES }, () => mqtt.connectAsync(URL, { protocolVersion: 5 })),
  )
  let received = 0
  sub.on('message', () => received++)
  await sub.subscribeAsync(`${topic}/+`, { qos })
  const payload = Buffer.from(PAYLOAD)
  let stop = false
  const loops = pubs.map(async (c: MqttClient, i) => {
    let inFlight = 0
    while (!stop) {
      if (inFlight >= 512) {
        await new Promise((r) => setImmediate(r))
        continue
      }
      inFlight++
      c.publish(`${topic}/${i}`, payload, { qos }, () => inFlight--)
      if (inFlight % 64 === 0) await new Promise((r) => setImmediate(r))
    }
  })
  await new Promise((r) => setTimeout(r, WARMUP_S * 1000))
  const start = received
  const t0 = performance.now()
  await new Promise((r) => setTimeout(r, MEASURE_S * 1000))
  const rate = ((received - start) * 1000) / (performance.now() - t0)
  stop = true
  await Promise.all(loops)
  await Promise.all([sub, ...pubs].map((c) => c.endAsync(true)))
  return rate
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

/** The capacity figure of one QoS: find-max's sustained rate against the raw client's ceiling. */
function capacityFigure(
  qos: 0 | 1,
  raw: number,
  r: FindMaxOutput,
  workers: 1 | 'auto' = 1,
  single?: number,
): BenchFigure {
  const best = r.sustainedRate ?? 0
  const ratio = raw > 0 ? best / raw : 0
  const floor = qos === 0 ? 0.9 : 0.8
  return {
    suite: 'mqtt',
    metric: `max sustained e2e rate through Mosquitto, QoS ${qos}, ${DEVICES} devices${workers === 1 ? '' : `, workers: ${workers}`} (find-max)`,
    limitedBy: limitOf(r),
    value: Math.round(best),
    unit: 'msg/s',
    baseline: {
      name: `raw mqtt.js, QoS ${qos}: ${DEVICES} publishers flat out (512 unacked each) + 1 subscriber`,
      value: Math.round(raw),
    },
    ratio: Number(ratio.toFixed(3)),
    target: single === undefined ? `≥ ${floor}` : `≥ ${floor}, and ≥ workers: 1 (${single})`,
    met: ratio >= floor && (single === undefined || ratio >= single),
    notes: findMaxNotes(r),
  }
}

async function rawConnect(count: number): Promise<{ ms: number; rssMb: number }> {
  const rss0 = process.memoryUsage().rss
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
  const rssMb = (process.memoryUsage().rss - rss0) / 2 ** 20
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
  const rss0 = process.memoryUsage().rss
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
  const rssMb = (process.memoryUsage().rss - rss0) / 2 ** 20
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
      const raw = await rawMaxRate(qos)
      const one = capacityFigure(qos, raw, await iotloadFindMax(qos, raw))
      figures.push(one)
      if (qos === 0)
        figures.push(capacityFigure(0, raw, await iotloadFindMax(0, raw, 'auto'), 'auto', one.ratio))
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
