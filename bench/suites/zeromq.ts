import { randomUUID } from 'node:crypto'
import * as zmq from 'zeromq'
import { type FindMaxOutput, findMax, findMaxNotes, limitOf } from '../lib/find-max.ts'
import type { BenchFigure, BenchSuite } from '../lib/types.ts'
import { freePort } from '@iotload/sdk/testing'

/** Producer sockets on both sides: iotload devices vs raw PUB loops. */
const DEVICES = 10
const PAYLOAD_BYTES = 128
const MEASURE_S = 5
const WARMUP_S = 1
/** Messages each raw publisher queues before yielding to the event loop (where the SUB reads). */
const BURST = 64

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * Baseline: zeromq.js itself, end to end, in one process like the iotload run. `DEVICES` PUB
 * sockets connect to one bound SUB and send three-frame messages (topic, empty headers, payload)
 * flat out in bursts; the SUB counts arrivals after a warm-up. PUB drops at its high-water mark,
 * so this is the receive rate zeromq.js sustains, not the send rate it accepts.
 */
async function rawRate(): Promise<number> {
  const endpoint = `tcp://127.0.0.1:${await freePort()}`
  const context = new zmq.Context({ maxSockets: zmq.context.maxSocketsLimit, blocky: false })
  const sub = new zmq.Subscriber({ context })
  await sub.bind(endpoint)
  sub.subscribe('raw/')
  const pubs = Array.from({ length: DEVICES }, () => new zmq.Publisher({ context }))
  for (const p of pubs) p.connect(endpoint)
  await sleep(500)
  let received = 0
  const reading = (async () => {
    for await (const _ of sub) received++
  })().catch(() => undefined) // closing the socket ends the iteration with ENOTSOCK
  const payload = new Uint8Array(PAYLOAD_BYTES).fill(120)
  const empty = new Uint8Array(0)
  let stop = false
  const loops = pubs.map(async (p, i) => {
    const topic = `raw/${i}`
    while (!stop) {
      for (let k = 0; k < BURST; k++) await p.send([topic, empty, payload])
      await new Promise((r) => setImmediate(r))
    }
  })
  await sleep(WARMUP_S * 1000)
  const start = received
  const t0 = performance.now()
  await sleep(MEASURE_S * 1000)
  const rate = ((received - start) * 1000) / (performance.now() - t0)
  stop = true
  await Promise.all(loops)
  for (const s of [...pubs, sub]) {
    s.linger = 0
    s.close()
  }
  await reading
  return rate
}

/**
 * `iotload find-max`: devices' PUB sockets connect to the consumer's bound SUB (no bridge, like
 * the raw loop), from a sixteenth of the raw ceiling up to twice it.
 */
async function iotloadFindMax(raw: number, workers: 1 | 'auto' = 1): Promise<FindMaxOutput> {
  const tag = `biot${randomUUID().slice(0, 8)}`
  return findMax(
    {
      name: 'bench-zeromq',
      broker: {
        plugin: 'zeromq',
        mode: 'pubsub',
        endpoint: `tcp://127.0.0.1:${await freePort()}`,
        sendHighWaterMark: 100_000,
        receiveHighWaterMark: 100_000,
      },
      producer: {
        devices: DEVICES,
        totalRate: '1000/s',
        duration: `${MEASURE_S}s`,
        warmup: `${WARMUP_S}s`,
        topic: `${tag}/{device}`,
        payload: { v: '{float:0:100:2}', pad: 'x'.repeat(PAYLOAD_BYTES - 80) },
        envelope: 'json',
        qos: 0,
      },
      consumer: { topic: `${tag}/+` },
      run: { workers },
    },
    { from: raw / 16, to: raw * 2, probeDuration: `${MEASURE_S}s`, warmup: `${WARMUP_S}s` },
  )
}

/** iotload's max sustained end-to-end rate over brokerless ZeroMQ PUB/SUB, against raw zeromq.js. */
const suite: BenchSuite = {
  name: 'zeromq',
  async run(): Promise<BenchFigure[]> {
    const raw = await rawRate()
    const figures: BenchFigure[] = []
    for (const workers of [1, 'auto'] as const) {
      const r = await iotloadFindMax(raw, workers)
      const best = r.sustainedRate ?? 0
      const ratio = raw > 0 ? best / raw : 0
      const single = figures[0]?.ratio
      figures.push({
        suite: 'zeromq',
        metric: `max sustained e2e rate, PUB/SUB over tcp://127.0.0.1, ${DEVICES} devices, workers: ${workers} (find-max)`,
        limitedBy: limitOf(r),
        value: Math.round(best),
        unit: 'msg/s',
        baseline: {
          name: `raw zeromq.js: ${DEVICES} PUB sockets (bursts of ${BURST}) → 1 bound SUB, same process`,
          value: Math.round(raw),
        },
        ratio: Number(ratio.toFixed(3)),
        target: single === undefined ? '≥ 0.8' : `≥ 0.8, and ≥ workers: 1 (${single})`,
        met: ratio >= 0.8 && (single === undefined || ratio >= single),
        notes: `iotload adds the JSON envelope, scheduling and HdrHistogram recording per message in the same process. ${findMaxNotes(r)}`,
      })
    }
    return figures
  },
}

export default suite
