import { randomUUID } from 'node:crypto'
import { availableParallelism } from 'node:os'
import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import { type FindMaxOutput, findMax, capacityTarget, findMaxNotes, limitOf } from '../lib/find-max.ts'
import { hotPathCosts } from '../lib/hot-path-floor.ts'
import { processCpu } from '../lib/proc-cpu.ts'
import { type RawProbe, rawLosslessRate, rawProbe, settle } from '../lib/raw-lossless.ts'
import type { BenchFigure, BenchSuite } from '../lib/types.ts'

const NATS_URL = 'nats://127.0.0.1:4222'
/** Producer connections on both sides: iotload devices vs raw publisher loops. */
const DEVICES = 10
const PAYLOAD_BYTES = 128
const MEASURE_S = 5
const WARMUP_S = 1
/** Unacknowledged publishes per raw publisher. */
const WINDOW = 256
/** Length of one paced raw probe. */
const PACED_S = 4

type Mode = 'core' | 'jetstream'

/** The raw loop's rate and what its messages cost: the client's and nats-server's CPU ns per message. */
interface RawRun {
  rate: number
  clientNs: number
  /** Undefined where nats-server's CPU cannot be read (no /proc, or not a local process). */
  serverNs?: number
}

/**
 * Baseline: the NATS client itself, end to end. `DEVICES` connections publish flat out, at most
 * `WINDOW` unconfirmed each (core: a flush after every `WINDOW` messages; JetStream: `WINDOW`
 * PubAcks in flight); one subscriber (JetStream: a durable pull consumer with explicit acks, as
 * the plugin uses) counts arrivals after a warm-up.
 */
async function rawRun(mode: Mode, stream: string): Promise<RawRun> {
  const tag = `braw${randomUUID().slice(0, 8)}`
  const sub = await connect({ servers: NATS_URL })
  const pubs = await Promise.all(Array.from({ length: DEVICES }, () => connect({ servers: NATS_URL })))
  let received = 0
  let stopConsumer: () => Promise<unknown> = async () => undefined
  if (mode === 'core') {
    const s = sub.subscribe(`${tag}.*`, {
      callback: () => {
        received++
      },
    })
    stopConsumer = async () => s.unsubscribe()
  } else {
    const jsm = await jetstreamManager(sub)
    await jsm.streams.add({ name: stream, subjects: [`${tag}.>`], storage: 'memory' as never })
    await jsm.consumers.add(stream, { durable_name: 'raw', ack_policy: 'explicit' as never })
    const c = await jetstream(sub).consumers.get(stream, 'raw')
    const msgs = await c.consume({
      max_messages: 1000,
      callback: (m) => {
        received++
        m.ack()
      },
    })
    stopConsumer = () => msgs.close()
  }
  await sub.flush()
  const payload = new Uint8Array(PAYLOAD_BYTES).fill(120)
  let stop = false
  const loops = pubs.map(async (nc: NatsConnection, i) => {
    const subject = `${tag}.${i}`
    const js = jetstream(nc)
    while (!stop) {
      if (mode === 'core') {
        for (let k = 0; k < WINDOW; k++) nc.publish(subject, payload)
        await nc.flush()
      } else {
        await Promise.all(Array.from({ length: WINDOW }, () => js.publish(subject, payload)))
      }
    }
  })
  await new Promise((r) => setTimeout(r, WARMUP_S * 1000))
  const server = processCpu('nats-server')
  const start = received
  const t0 = performance.now()
  const cpu0 = process.cpuUsage()
  const server0 = server?.()
  await new Promise((r) => setTimeout(r, MEASURE_S * 1000))
  const cpu = process.cpuUsage(cpu0)
  const serverS = server && server0 !== undefined ? server() - server0 : undefined
  const n = received - start
  const rate = (n * 1000) / (performance.now() - t0)
  stop = true
  await Promise.all(loops)
  await stopConsumer()
  await Promise.all([sub, ...pubs].map((c) => c.close()))
  return {
    rate,
    clientNs: n > 0 ? ((cpu.user + cpu.system) * 1000) / n : 0,
    ...(serverS !== undefined && n > 0 ? { serverNs: (serverS * 1e9) / n } : {}),
  }
}

/**
 * One probe of the raw client sending as iotload's devices do (core NATS): `DEVICES` publishers,
 * each on a 1 ms tick sending the share of `rate` its schedule owes by then (open loop), one
 * subscriber; judged as a find-max probe is (`rawProbe`). nats-server drops a subscriber that
 * falls behind (a slow consumer): that shows as lost.
 */
async function rawPacedProbe(rate: number): Promise<RawProbe> {
  const tag = `bpaced${randomUUID().slice(0, 8)}`
  const sub = await connect({ servers: NATS_URL })
  const pubs = await Promise.all(Array.from({ length: DEVICES }, () => connect({ servers: NATS_URL })))
  try {
    let received = 0
    sub.subscribe(`${tag}.*`, {
      callback: () => {
        received++
      },
    })
    await sub.flush()
    const payload = new Uint8Array(PAYLOAD_BYTES).fill(120)
    let sent = 0
    const t0 = performance.now()
    const end = t0 + PACED_S * 1000
    const loops = pubs.map(async (nc, i) => {
      const subject = `${tag}.${i}`
      let mine = 0
      while (performance.now() < end) {
        const due = Math.floor(((performance.now() - t0) / 1000) * (rate / DEVICES))
        for (; mine < due; mine++) nc.publish(subject, payload)
        await new Promise((r) => setTimeout(r, 1))
      }
      sent += mine
      await nc.flush()
    })
    await Promise.all(loops)
    const onTime = received
    await settle(() => received)
    return rawProbe({ rate, seconds: PACED_S, sent, accepted: sent, onTime, received })
  } finally {
    await Promise.all([sub, ...pubs].map((c) => c.close().catch(() => undefined)))
  }
}

/** iotload's core NATS capacity against the raw client paced as its devices send: what iotload itself adds. */
async function againstPaced(core: BenchFigure): Promise<BenchFigure> {
  const raw = core.baseline?.value ?? 0
  const paced = await rawLosslessRate(raw, rawPacedProbe)
  return {
    suite: 'nats',
    metric: `max sustained e2e rate, core NATS, workers: 1, against the raw client paced as iotload's ${DEVICES} devices send (1 ms ticks)`,
    value: core.value,
    unit: 'msg/s',
    baseline: {
      name: `raw @nats-io client paced: highest lossless rate, ${DEVICES} publishers on 1 ms ticks + 1 subscriber`,
      value: Math.round(paced.rate),
    },
    ratio: paced.rate > 0 ? Number((core.value / paced.rate).toFixed(3)) : 0,
    notes: `Flat out the same client held ${raw.toLocaleString('en-US')} msg/s; paced it held ${Math.round(paced.rate).toLocaleString('en-US')} (${raw > 0 ? (paced.rate / raw).toFixed(2) : '0'} of that), searched as find-max searches (${PACED_S} s probes): ${paced.curve}`,
  }
}

/**
 * `iotload find-max`, producer → NATS → consumer (no bridge, like the raw loop), from a sixteenth of
 * the raw ceiling up to twice it.
 */
function iotloadFindMax(
  mode: Mode,
  stream: string,
  raw: number,
  workers: 1 | 2 | 'auto' = 1,
): Promise<FindMaxOutput> {
  const tag = `biot${randomUUID().slice(0, 8)}`
  return findMax(
    {
      name: `bench-nats-${mode}`,
      broker: { plugin: 'nats', url: NATS_URL, mode, ...(mode === 'jetstream' && { jetstream: { stream } }) },
      producer: {
        devices: DEVICES,
        totalRate: '1000/s',
        duration: `${MEASURE_S}s`,
        warmup: `${WARMUP_S}s`,
        topic: `${tag}.{device}`,
        payload: { v: '{float:0:100:2}', pad: 'x'.repeat(PAYLOAD_BYTES - 80) },
        envelope: 'json',
        qos: mode === 'core' ? 0 : 1,
      },
      consumer: { topic: `${tag}.*` },
      run: { drain: '3s', workers },
    },
    { from: raw / 16, to: raw * 2, probeDuration: `${MEASURE_S}s`, warmup: `${WARMUP_S}s` },
  )
}

async function deleteStreams(names: string[]): Promise<void> {
  const nc = await connect({ servers: NATS_URL })
  const jsm = await jetstreamManager(nc)
  for (const n of names) await jsm.streams.delete(n).catch(() => undefined)
  await nc.close()
}

async function measure(
  mode: Mode,
  workers: 1 | 2 | 'auto' = 1,
  single?: number,
  known?: number,
): Promise<BenchFigure> {
  const id = randomUUID().slice(0, 8)
  const rawStream = `BENCH_RAW_${id}`
  const iotStream = `BENCH_IOT_${id}`
  try {
    const raw = known ?? (await rawRun(mode, rawStream)).rate
    const r = await iotloadFindMax(mode, iotStream, raw, workers)
    const best = r.sustainedRate ?? 0
    const ratio = raw > 0 ? best / raw : 0
    const what = mode === 'core' ? 'core NATS, QoS 0' : 'JetStream memory stream, PubAck + explicit acks'
    return {
      suite: 'nats',
      metric: `max sustained e2e rate, ${what}, ${DEVICES} devices${workers === 1 ? '' : `, workers: ${workers}`} (find-max)`,
      limitedBy: limitOf(r),
      value: Math.round(best),
      unit: 'msg/s',
      baseline: {
        name: `raw @nats-io client: ${DEVICES} publishers (${WINDOW} unacked each) + 1 ${mode === 'core' ? 'subscriber' : 'pull consumer'}`,
        value: Math.round(raw),
      },
      ratio: Number(ratio.toFixed(3)),
      ...capacityTarget(0.8, ratio, single, r),
      notes: findMaxNotes(r),
    }
  } finally {
    if (mode === 'jetstream') await deleteStreams([rawStream, iotStream])
  }
}

/** iotload's max sustained end-to-end rate through NATS, core and JetStream, against the raw client. */
/**
 * The most of the raw client's rate that iotload could reach on this machine, from CPU alone: each
 * message costs at least the client library's batched work and nats-server's (both as measured
 * in the raw loop) plus iotload's own send and receive work in a tight loop (no timers, no
 * per-device writes), so the machine's cores hold at most cores / that sum messages a second.
 * Optimistic by construction: a run pays for its schedule and its devices' writes on top.
 */
async function cpuBudget(): Promise<BenchFigure | undefined> {
  const raw = await rawRun('core', '')
  if (raw.serverNs === undefined || raw.rate <= 0) return undefined
  const hot = hotPathCosts()
  const iotloadNs = hot.renderEncodeBuffer + hot.onPayload
  const perMessageNs = raw.clientNs + raw.serverNs + iotloadNs
  const cores = availableParallelism()
  const ceiling = (cores * 1e9) / perMessageNs
  const ratio = Math.min(1, ceiling / raw.rate)
  // What 0.8 of the raw rate leaves iotload per message once the client and the server are paid.
  const allowedNs = (cores * 1e9) / (0.8 * raw.rate) - raw.clientNs - raw.serverNs
  const ns = (x: number) => `${Math.round(x).toLocaleString('en-US')} ns`
  return {
    suite: 'nats',
    metric: `core NATS: the most iotload could reach on these ${cores} cores, from CPU per message alone (an upper bound)`,
    value: Math.round(Math.min(ceiling, raw.rate)),
    unit: 'msg/s',
    baseline: {
      name: `raw @nats-io client, ${DEVICES} publishers (${WINDOW} unacked each) + 1 subscriber`,
      value: Math.round(raw.rate),
    },
    ratio: Number(ratio.toFixed(3)),
    notes: `${cores} cores / (raw client ${ns(raw.clientNs)} + nats-server ${ns(raw.serverNs)} + iotload's own send and receive in a tight loop ${ns(iotloadNs)} (render + envelope + buffer ${ns(hot.renderEncodeBuffer)}, decode + record ${ns(hot.onPayload)})) per message = ${Math.round(ceiling).toLocaleString('en-US')} msg/s. 0.8 of the raw rate would leave iotload ${ns(allowedNs)} per message for all it adds to the client's work, its schedule's timer wakes and each device's own socket writes included; its tight loop alone takes ${ns(iotloadNs)}.`,
  }
}

const suite: BenchSuite = {
  name: 'nats',
  requires: [{ name: 'NATS', host: '127.0.0.1', port: 4222 }],
  async run(): Promise<BenchFigure[]> {
    const core = await measure('core')
    const coreAuto = await measure('core', 'auto', core.ratio, core.baseline?.value)
    // auto leaves a broker on this machine half the cores (one thread on 2 cores): what two
    // producer workers hold beside nats-server, asked for by number.
    const coreTwo = await measure('core', 2, core.ratio, core.baseline?.value)
    const budget = await cpuBudget()
    const paced = await againstPaced(core)
    return [core, coreAuto, coreTwo, paced, ...(budget ? [budget] : []), await measure('jetstream')]
  },
}

export default suite
