import { randomUUID } from 'node:crypto'
import * as zmq from 'zeromq'
import { type FindMaxOutput, findMax, capacityTarget, findMaxNotes, limitOf } from '../lib/find-max.ts'
import { type RawProbe, rawLosslessRate, rawProbe, settle } from '../lib/raw-lossless.ts'
import type { BenchFigure, BenchSuite } from '../lib/types.ts'
import { freePort } from '@iotload/sdk/testing'

/** Producer sockets on both sides: iotload devices vs raw PUB loops. */
const DEVICES = 10
const PAYLOAD_BYTES = 128
const MEASURE_S = 5
const WARMUP_S = 1
/** Messages each raw publisher queues before yielding to the event loop (where the SUB reads). */
const BURST = 64
/** Both sockets' high-water marks in iotload's run and in the raw paced probe. */
const HIGH_WATER_MARK = 100_000

/** The raw client flat out: its arrival rate, and what its PUB sockets sent that never arrived. */
interface RawCeiling {
  rate: number
  sent: number
  lost: number
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * Baseline: zeromq.js itself, end to end, in one process like the iotload run. `DEVICES` PUB
 * sockets connect to one bound SUB and send three-frame messages (topic, empty headers, payload)
 * flat out in bursts; the SUB counts arrivals after a warm-up. PUB drops at its high-water mark,
 * so this is the receive rate zeromq.js sustains, not the send rate it accepts, and when it
 * dropped any, the baseline is its lossless paced rate instead (see `rawBaseline`).
 */
async function rawRate(): Promise<RawCeiling> {
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
  let sent = 0
  const loops = pubs.map(async (p, i) => {
    const topic = `raw/${i}`
    while (!stop) {
      for (let k = 0; k < BURST; k++) await p.send([topic, empty, payload])
      sent += BURST
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
  await settle(() => received)
  for (const s of [...pubs, sub]) {
    s.linger = 0
    s.close()
  }
  await reading
  return { rate, sent, lost: Math.max(0, sent - received) }
}

/**
 * One paced probe of raw zeromq.js, with the high-water marks iotload's run gets: DEVICES PUB
 * sockets, each an equal share of `rate` on a 1 ms tick for MEASURE_S; judged as a find-max probe is
 * (`rawProbe`).
 */
async function rawPacedProbe(rate: number): Promise<RawProbe> {
  const endpoint = `tcp://127.0.0.1:${await freePort()}`
  const context = new zmq.Context({ maxSockets: zmq.context.maxSocketsLimit, blocky: false })
  const sub = new zmq.Subscriber({ context, receiveHighWaterMark: HIGH_WATER_MARK })
  await sub.bind(endpoint)
  sub.subscribe('raw/')
  const pubs = Array.from(
    { length: DEVICES },
    () => new zmq.Publisher({ context, sendHighWaterMark: HIGH_WATER_MARK }),
  )
  for (const p of pubs) p.connect(endpoint)
  await sleep(500)
  let received = 0
  const reading = (async () => {
    for await (const _ of sub) received++
  })().catch(() => undefined)
  const payload = new Uint8Array(PAYLOAD_BYTES).fill(120)
  const empty = new Uint8Array(0)
  let sent = 0
  const t0 = performance.now()
  const end = t0 + MEASURE_S * 1000
  // Open loop per socket, as iotload's devices run: each tick sends what the socket's share of the
  // schedule owes by now, however late the tick runs; a socket whose send zeromq.js defers (every
  // 512th) holds up only its own share.
  const loops = pubs.map(async (p, i) => {
    const topic = `raw/${i}`
    let mine = 0
    while (performance.now() < end) {
      const due = Math.floor(((performance.now() - t0) / 1000) * (rate / DEVICES))
      for (; mine < due; mine++) await p.send([topic, empty, payload])
      await sleep(1)
    }
    sent += mine
  })
  await Promise.all(loops)
  const onTime = received
  await settle(() => received)
  for (const s of [...pubs, sub]) {
    s.linger = 0
    s.close()
  }
  await reading
  // A PUB drops silently at its high-water mark: what it accepted is what it was given.
  return rawProbe({ rate, seconds: MEASURE_S, sent, accepted: sent, onTime, received })
}

/**
 * The raw client's highest lossless rate: flat out when that lost nothing and the paced search
 * found no more, else the paced search's. Taking the flat-out rate alone whenever it lost nothing
 * gave a baseline half the paced one on another day (zeromq.js awaits each send flat out), so the
 * ratio moved with the mode, not with iotload.
 */
async function rawBaseline(ceiling: RawCeiling): Promise<{ rate: number; name: string; notes: string }> {
  const flat = `raw zeromq.js flat out (${DEVICES} PUB sockets, bursts of ${BURST}, default high-water marks): ${Math.round(ceiling.rate).toLocaleString('en-US')} msg/s received, ${ceiling.lost.toLocaleString('en-US')} of ${ceiling.sent.toLocaleString('en-US')} sent never arrived`
  const paced = await rawLosslessRate(ceiling.rate, rawPacedProbe)
  const search = `the raw client's highest rate with nothing lost, paced (1 ms ticks, high-water marks ${HIGH_WATER_MARK.toLocaleString('en-US')} as iotload's run has, the same doubling and 5% bisection as find-max): ${Math.round(paced.rate).toLocaleString('en-US')} msg/s (${paced.curve})`
  if (ceiling.lost === 0 && ceiling.rate >= paced.rate)
    return {
      rate: ceiling.rate,
      name: `raw zeromq.js: ${DEVICES} PUB sockets (bursts of ${BURST}) → 1 bound SUB, same process, lost 0`,
      notes: `${flat}; ${search}: the baseline is the higher, flat out`,
    }
  return {
    rate: paced.rate,
    name: `raw zeromq.js: highest lossless paced rate, ${DEVICES} PUB sockets → 1 bound SUB, same process (${ceiling.lost > 0 ? 'flat out it drops' : 'above its flat-out rate'})`,
    notes: `${flat}; ${search}: the baseline is the higher, paced`,
  }
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
        sendHighWaterMark: HIGH_WATER_MARK,
        receiveHighWaterMark: HIGH_WATER_MARK,
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
    const ceiling = await rawRate()
    const raw = await rawBaseline(ceiling)
    const figures: BenchFigure[] = []
    for (const workers of [1, 'auto'] as const) {
      const r = await iotloadFindMax(ceiling.rate, workers)
      const best = r.sustainedRate ?? 0
      const ratio = raw.rate > 0 ? best / raw.rate : 0
      const single = figures[0]?.ratio
      figures.push({
        suite: 'zeromq',
        metric: `max sustained e2e rate, PUB/SUB over tcp://127.0.0.1, ${DEVICES} devices, workers: ${workers} (find-max)`,
        limitedBy: limitOf(r),
        value: Math.round(best),
        unit: 'msg/s',
        baseline: { name: raw.name, value: Math.round(raw.rate) },
        ratio: Number(ratio.toFixed(3)),
        ...capacityTarget(0.8, ratio, single, r),
        notes: `iotload adds the JSON envelope, scheduling and HdrHistogram recording per message in the same process. ${findMaxNotes(r)}. Baseline: ${raw.notes}`,
      })
    }
    return figures
  },
}

export default suite
