import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createTelemetry, type Telemetry } from '@iotload/otel'
import { otlpProtoDir, startOtlpReceiver } from '@iotload/otel/testing'
import { requireService } from '@iotload/sdk/testing'
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import { createLogger } from '../../log/logger.ts'
import { resolveScenario } from '../../scenario/load-scenario.ts'
import type { SecondReport } from '../recorder.ts'
import { newRunId, startRun } from '../run.ts'
import { recordingStore } from '../testing/recording-store.ts'

const BIN = fileURLToPath(new URL('../../../bin/iotload.js', import.meta.url))
const CRASHING = fileURLToPath(new URL('./testing/crashing-plugin.ts', import.meta.url))
const nats = await requireService('NATS', '127.0.0.1', 4222)
const protoDir = otlpProtoDir()
const dirs: string[] = []
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true })
})

/** The same scenario run with `workers`; NATS core on loopback at a rate it carries without loss. */
async function runWith(workers: number | 'auto', telemetry?: Telemetry) {
  const tag = `w${randomUUID().slice(0, 8)}`
  const resolved = await resolveScenario({
    name: `workers-${workers}`,
    broker: { plugin: 'nats', url: 'nats://127.0.0.1:4222', mode: 'core' },
    producer: {
      devices: 6,
      totalRate: '600/s',
      duration: '3s',
      warmup: '1s',
      topic: `${tag}.{device}`,
      payload: { v: '{float:0:100:2}' },
    },
    run: { drain: '3s', workers },
  })
  const store = recordingStore()
  const id = newRunId()
  const hooks = telemetry?.forRun({
    run: id,
    system: 'nats',
    producerDestination: resolved.scenario.producer.topic,
    devices: 6,
  })
  const summary = await startRun(resolved, { id, store, ...(hooks ? { telemetry: hooks } : {}) }).result
  return { summary, store: store.writes }
}

describe.skipIf(!nats)('run.workers (real NATS)', () => {
  it('workers: 2 and workers: 1 give identical counts and per-device accounting', async () => {
    const one = await runWith(1)
    const two = await runWith(2)
    expect(one.summary.run.status).toBe('completed')
    expect(two.summary.run.status).toBe('completed')
    expect(two.summary.workers).toMatchObject({ producers: 2, threads: 3 })
    expect(one.summary.workers).toBeUndefined()
    const counts = (s: typeof one.summary) => {
      const e = s.streams.e2e!
      return {
        sent: e.sent,
        received: e.received,
        lost: e.lost,
        undelivered: e.undelivered,
        duplicates: e.duplicates,
      }
    }
    // Every planned send, and every one received, in both.
    expect(counts(one.summary)).toEqual({
      sent: 1800,
      received: 1800,
      lost: 0,
      undelivered: 0,
      duplicates: 0,
    })
    expect(counts(two.summary)).toEqual(counts(one.summary))
    const perDevice = (rows: typeof one.store.devices) =>
      rows.map((d) => ({
        device: d.device,
        sent: d.sent,
        received: d.received,
        lost: d.lost,
        undelivered: d.undelivered,
      }))
    expect(perDevice(two.store.devices)).toEqual(perDevice(one.store.devices))
    expect(two.store.devices.map((d) => d.sent)).toEqual([300, 300, 300, 300, 300, 300])
    // One series: each second once, and its counters add up to the run's.
    const seconds = two.store.seconds.map((r) => r.second)
    expect(seconds).toEqual([...new Set(seconds)].sort((a, b) => a - b))
    const sum = two.store.seconds.reduce((n, r) => n + r.counters.sent, 0)
    expect(sum).toBe(1800)
    expect(two.summary.streams.e2e!.latency.raw.count).toBe(1800)
  }, 90_000)
})

describe.skipIf(!nats)('run.workers with a reconnect storm', () => {
  /** 10 devices, 10 % of them dropped and reconnected at 1 s. */
  async function stormWith(workers: number) {
    const resolved = await resolveScenario({
      name: `storm-workers-${workers}`,
      broker: { plugin: 'nats', url: 'nats://127.0.0.1:4222', mode: 'core' },
      producer: {
        devices: 10,
        totalRate: '200/s',
        duration: '2s',
        reconnectStorm: { at: '1s', fraction: 0.1 },
        topic: `s${randomUUID().slice(0, 8)}.{device}`,
      },
      run: { drain: '2s', workers },
    })
    return startRun(resolved, { logger: createLogger({ level: 'error' }) }).result
  }

  it("drops the connections one thread drops: 1 of 10 over two workers' 5 + 5 (each dropped none before)", async () => {
    const one = await stormWith(1)
    const two = await stormWith(2)
    expect(two.workers).toMatchObject({ producers: 2 })
    expect(one.connections?.storm).toMatchObject({ dropped: 1, reconnected: 1, failed: 0 })
    expect(two.connections?.storm).toMatchObject({ dropped: 1, reconnected: 1, failed: 0 })
  }, 60_000)
})

/** A metric's samples from the Prometheus text, by the `le` or `leg` label, for one run. */
async function samples(t: Telemetry, run: string, metric: string): Promise<string[]> {
  const { body } = await t.metrics.text()
  return body
    .split('\n')
    .filter((l) => l.startsWith(metric) && l.includes(`run="${run}"`))
    .map((l) => {
      const name = l.slice(0, l.indexOf('{'))
      const bucket = / (le|leg)="[^"]*"/.exec(l.replace(/,/g, ' '))?.[0]?.trim() ?? ''
      return `${name}{${bucket}} ${l.slice(l.lastIndexOf(' ') + 1)}`
    })
}

describe.skipIf(!nats)('run.workers with device groups (producers:)', () => {
  /** Two groups at their own rates; with 2 workers the first shard holds group a and one of b. */
  async function grouped(workers: 1 | 2, consumer: Record<string, unknown> = {}) {
    const tag = `g${randomUUID().slice(0, 8)}`
    const group = (name: string, devices: number, rate: string) => ({
      name,
      devices,
      rate,
      duration: '3s',
      warmup: '1s',
      topic: `${tag}.${name}.{device}`,
    })
    const resolved = await resolveScenario({
      broker: { plugin: 'nats', url: 'nats://127.0.0.1:4222', mode: 'core' },
      producers: [group('meters', 2, '50/s'), group('cams', 3, '20/s')],
      consumer,
      run: { drain: '3s', workers },
    })
    const seconds: SecondReport[] = []
    const summary = await startRun(resolved, { onSecond: (r) => seconds.push(r) }).result
    expect(summary.run.status).toBe('completed')
    const perSecond = (name: string, key: 'sent' | 'received') =>
      seconds.reduce((n, r) => n + (r.groups?.find((g) => g.group === name)?.[key] ?? 0), 0)
    return {
      groups: summary.groups?.map((g) => ({
        group: g.group,
        firstDevice: g.firstDevice,
        sent: g.sent,
        received: g.received,
        lost: g.lost,
        undelivered: g.undelivered,
        targetRate: g.targetRate,
        perSecond: [perSecond(g.group, 'sent'), perSecond(g.group, 'received')],
        latencyCount: g.latency.raw.count,
      })),
      targets: seconds.map((r) => r.targetRate),
      workers: summary.workers?.producers,
    }
  }

  it('workers: 2 gives each group the sends, arrivals and targets one thread gives it', async () => {
    const one = await grouped(1)
    const two = await grouped(2)
    expect(one.groups).toEqual([
      {
        group: 'meters',
        firstDevice: 0,
        sent: 300,
        received: 300,
        lost: 0,
        undelivered: 0,
        targetRate: 100,
        perSecond: [300, 300],
        latencyCount: 300,
      },
      {
        group: 'cams',
        firstDevice: 2,
        sent: 180,
        received: 180,
        lost: 0,
        undelivered: 0,
        targetRate: 60,
        perSecond: [180, 180],
        latencyCount: 180,
      },
    ])
    expect(two.workers).toBe(2)
    expect(two.groups).toEqual(one.groups)
    expect(two.targets).toEqual(one.targets)
  })

  it('without a consumer, each group still has its target, as on one thread', async () => {
    const one = await grouped(1, { enabled: false })
    const two = await grouped(2, { enabled: false })
    expect(one.groups?.map((g) => [g.group, g.targetRate])).toEqual([
      ['meters', 100],
      ['cams', 60],
    ])
    expect(two.groups).toEqual(one.groups)
  })
})

describe.skipIf(!nats)('run.workers: auto beside a broker on this machine', () => {
  it('leaves nats-server on 127.0.0.1 half the cores, and the summary says so', async () => {
    const cores = availableParallelism()
    const { summary } = await runWith('auto')
    expect(summary.run.status).toBe('completed')
    const producers = Math.min(6, Math.max(1, Math.floor(cores / 2)))
    if (producers === 1) expect(summary.workers).toBeUndefined()
    else expect(summary.workers?.producers).toBe(producers)
    const threads = producers === 1 ? 'one thread' : `${producers} producer workers`
    expect(summary.hints).toContain(
      `run.workers auto ran ${threads}: the broker at 127.0.0.1 shares this machine's ${cores} cores, so auto gives producer workers half of them; set run.workers to a number to choose`,
    )
    expect(summary.streams.e2e).toMatchObject({ sent: 1800, received: 1800, lost: 0 })
  })
})

describe.skipIf(!nats)('run.workers with metrics on (as the daemon and --metrics-port run)', () => {
  it('stays sharded, and its histograms count every message once, as one thread does', async () => {
    const telemetry = createTelemetry({ env: {} })
    const one = await runWith(1, telemetry)
    const two = await runWith(2, telemetry)
    expect(two.summary.workers).toMatchObject({ producers: 2, threads: 3 })
    expect(two.summary.streams.e2e!.received).toBe(1800)
    const counts = async (run: string) => [
      ...(await samples(telemetry, run, 'iotload_e2e_latency_milliseconds_count')),
      ...(await samples(telemetry, run, 'iotload_e2e_latency_corrected_milliseconds_count')),
      ...(await samples(telemetry, run, 'iotload_messages_received_total')),
    ]
    // Warm-up arrivals are not latencies: 3 measured seconds × 600/s in every figure.
    expect(await counts(two.summary.run.id)).toEqual(
      expect.arrayContaining([expect.stringMatching(/_count\{.*\} 1800$/)]),
    )
    expect(await counts(two.summary.run.id)).toEqual(await counts(one.summary.run.id))
    const e2eBuckets = await samples(telemetry, two.summary.run.id, 'iotload_e2e_latency_milliseconds_bucket')
    expect(e2eBuckets.at(-1)).toMatch(/le="\+Inf".* 1800$/)
    // The producer workers' hooks too: every publish's ack leg, warm-up included (NATS core
    // settles on the flush).
    const acks = (run: string) => samples(telemetry, run, 'iotload_leg_latency_milliseconds_count')
    expect(await acks(two.summary.run.id)).toEqual([
      'iotload_leg_latency_milliseconds_count{leg="publish-ack"} 2400',
    ])
    expect(await acks(one.summary.run.id)).toEqual(await acks(two.summary.run.id))
  }, 90_000)
})

describe.skipIf(!nats || !protoDir)('run.workers with traces on (OTLP from the environment)', () => {
  afterEach(() => vi.unstubAllEnvs())

  it("shards: each worker traces its own role, and every message's spans still make one trace", async () => {
    const receiver = await startOtlpReceiver(protoDir!)
    try {
      vi.stubEnv('OTEL_TRACES_EXPORTER', 'otlp')
      vi.stubEnv('OTEL_EXPORTER_OTLP_PROTOCOL', 'http/protobuf')
      vi.stubEnv('OTEL_EXPORTER_OTLP_ENDPOINT', receiver.httpEndpoint)
      vi.stubEnv('IOTLOAD_TRACE_SAMPLE', '20/s')
      const telemetry = createTelemetry({ diagnostics: () => {} })
      const two = await runWith(2, telemetry)
      await telemetry.shutdown()
      expect(two.summary.workers).toMatchObject({ producers: 2, threads: 3 })
      const spans = receiver.spans.filter((x) => x.attributes['iotload.run'] === two.summary.run.id)
      const sends = spans.filter((x) => x.service === 'iotload-producer')
      const receives = spans.filter((x) => x.service === 'iotload-consumer')
      // 20 a second for the whole run (each of the 2 producer workers takes 10) over its 4 s.
      expect(sends.length).toBeGreaterThanOrEqual(70)
      expect(sends.length).toBeLessThanOrEqual(90)
      // Both shards (devices 0–2 and 3–5) traced.
      const devices = new Set(sends.map((x) => Number(x.attributes['iotload.device'])))
      expect([...devices].some((d) => d < 3) && [...devices].some((d) => d >= 3)).toBe(true)
      // Each send span (producer worker) has its receive span (consumer worker) in the same trace.
      const sendById = new Map(sends.map((x) => [x.spanId, x]))
      expect(receives).toHaveLength(sends.length)
      for (const r of receives) expect(sendById.get(r.parentSpanId)?.traceId).toBe(r.traceId)
    } finally {
      await receiver.close()
    }
  }, 90_000)
})

describe('producer.maxConnectFailures across workers', () => {
  const REFUSING = fileURLToPath(new URL('./testing/refusing-plugin.ts', import.meta.url))
  const runRefusing = async (refuse: number[], maxConnectFailures: number) =>
    startRun(
      await resolveScenario({
        name: 'refusing',
        broker: { plugin: REFUSING, refuse },
        producer: {
          devices: 10,
          rate: '5/s',
          duration: '1s',
          warmup: '0s',
          topic: 'r/{device}',
          maxConnectFailures,
        },
        consumer: { enabled: false },
        run: { workers: 2, drain: '1s' },
      }),
      { logger: createLogger({ level: 'error' }) },
    ).result
  // Devices 2 and 7 are refused: one in each worker (devices 0–4 and 5–9), each within the allowance.
  const runAllowing = (maxConnectFailures: number) => runRefusing([2, 7], maxConnectFailures)

  it('is the fleet’s: two failures spread over two workers exceed an allowance of 1', async () => {
    const summary = await runAllowing(1)
    expect(summary.run.status).toBe('failed')
    expect(summary.error).toMatch(/device 2 not authorised \(2 of 10 device connections failed\)/)
  }, 60_000)

  it('a worker whose every device failed goes on when the fleet’s allowance covers them, as one thread would', async () => {
    const summary = await runRefusing([5, 6, 7, 8, 9], 5)
    expect(summary.run.status, summary.error).toBe('completed')
    expect(summary.connections).toMatchObject({ failed: 5, tolerated: 5 })
    expect(summary.streams.e2e?.sent).toBe(5 * 5)
  }, 60_000)

  it('no device connected at all fails the run, whatever the allowance', async () => {
    const summary = await runRefusing([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 10)
    expect(summary.run.status).toBe('failed')
    expect(summary.error).toMatch(/\(10 of 10 device connections failed\)/)
  }, 60_000)

  it('within it, the run goes on, and the summary lists the failed devices of every worker', async () => {
    const summary = await runAllowing(2)
    expect(summary.run.status, summary.error).toBe('completed')
    expect(summary.connections).toMatchObject({
      devices: 10,
      failed: 2,
      tolerated: 2,
      failuresByCause: { auth: 2 },
    })
    expect(summary.connections?.failedDevices?.map((f) => f.device)).toEqual([2, 7])
    expect(summary.streams.e2e?.sent).toBe(8 * 5)
  }, 60_000)
})

describe('a worker that crashes', () => {
  it('ends the run with exit 3 and a clear error, the seconds completed before kept', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'iotload-workers-'))
    dirs.push(dir)
    const file = join(dir, 'crash.json')
    await writeFile(
      file,
      JSON.stringify({
        name: 'crash',
        broker: { plugin: CRASHING, crashAfterMs: 2500 },
        producer: {
          devices: 4,
          totalRate: '200/s',
          duration: '6s',
          warmup: '0s',
          topic: 'x/{device}',
          payload: { v: 1 },
        },
        consumer: { enabled: false },
        run: { workers: 2 },
      }),
    )
    const out = join(dir, 'out.json')
    const { code, stdout, stderr } = await new Promise<{
      code: number | null
      stdout: string
      stderr: string
    }>((resolve) => {
      execFile(
        process.execPath,
        [BIN, 'run', file, '--db', join(dir, 'r.db'), '--json', out, '--quiet'],
        { timeout: 60_000 },
        (err, stdout, stderr) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }),
      )
    })
    expect(code, stderr).toBe(3)
    expect(stdout).toMatch(/failed/)
    expect(`${stdout}${stderr}`).toMatch(
      /worker \d \(producer, devices \d–\d\) failed: crashing plugin: deliberate uncaught error/,
    )
    const doc = JSON.parse(await readFile(out, 'utf8')) as { run: { status: string }; series?: unknown[] }
    expect(doc.run.status).toBe('failed')
    // The seconds completed before the crash are stored.
    expect(JSON.stringify(doc)).toMatch(/"second":1\b/)
  }, 90_000)
})
