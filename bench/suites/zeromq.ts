import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import * as zmq from 'zeromq'
import { searchMaxRate } from '../lib/in-process-run.ts'
import { cliTrial } from '../lib/cli-trial.ts'
import type { BenchFigure, BenchSuite } from '../lib/types.ts'
import { freePort } from '@iotload/sdk/testing'

/** Producer sockets on both sides: iotload devices vs raw PUB loops. */
const DEVICES = 10
const PAYLOAD_BYTES = 128
const MEASURE_S = 5
const WARMUP_S = 1
const SEARCH_STEPS = 5
/** Messages each raw publisher queues before yielding to the event loop (where the SUB reads). */
const BURST = 64
const _ROOT = fileURLToPath(new URL('../..', import.meta.url))
const _run = promisify(execFile)

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
 * One iotload CLI run at `totalRate` msg/s: devices' PUB sockets connect to the consumer's bound
 * SUB (no bridge, like the raw loop). Sustained: nothing lost, and both the send and the receive
 * rate within 3% of the target.
 */
async function iotloadRun(dir: string, totalRate: number) {
  const tag = `biot${randomUUID().slice(0, 8)}`
  return cliTrial(
    dir,
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
        totalRate: `${Math.round(totalRate)}/s`,
        duration: `${MEASURE_S}s`,
        warmup: `${WARMUP_S}s`,
        topic: `${tag}/{device}`,
        payload: { v: '{float:0:100:2}', pad: 'x'.repeat(PAYLOAD_BYTES - 80) },
        envelope: 'json',
        qos: 0,
      },
      consumer: { topic: `${tag}/+` },
    },
    totalRate,
  )
}

/** iotload's max sustained end-to-end rate over brokerless ZeroMQ PUB/SUB, against raw zeromq.js. */
const suite: BenchSuite = {
  name: 'zeromq',
  async run(): Promise<BenchFigure[]> {
    const dir = await mkdtemp(join(tmpdir(), 'iotload-bench-zeromq-'))
    try {
      const raw = await rawRate()
      const { best, log } = await searchMaxRate((rate) => iotloadRun(dir, rate), raw * 0.5, raw, SEARCH_STEPS)
      const ratio = raw > 0 ? best / raw : 0
      return [
        {
          suite: 'zeromq',
          metric: `max sustained e2e rate, PUB/SUB over tcp://127.0.0.1, ${DEVICES} devices`,
          value: Math.round(best),
          unit: 'msg/s',
          baseline: {
            name: `raw zeromq.js: ${DEVICES} PUB sockets (bursts of ${BURST}) → 1 bound SUB, same process`,
            value: Math.round(raw),
          },
          ratio: Number(ratio.toFixed(3)),
          target: '≥ 0.8',
          met: ratio >= 0.8,
          notes:
            'iotload adds the JSON envelope, scheduling and HdrHistogram recording per message in the same ' +
            `process; CLI probes (sustained = lost 0, send and receive rate ≥ 97% of target, final-phase send lag p99 ≤ 50 ms): ${log.join('; ')}`,
        },
      ]
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  },
}

export default suite
