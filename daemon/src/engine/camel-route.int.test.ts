import { randomUUID } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { requireService } from '@iotload/sdk/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadPlugin } from '../plugins/loader.ts'
import { parseScenarioText, resolveScenario } from '../scenario/load-scenario.ts'
import { example } from './cross-broker-fixtures.ts'
import { startRun } from './run.ts'
import type { RunSummary } from './summary.ts'
import {
  awaitCamelRoute,
  type CamelRoute,
  fetchCamel,
  jdkAvailable,
  startCamelRoute,
} from './testing/camel-route.ts'
import { collectingLogger } from './testing/memory-scenario.ts'

// The seed's own path: iotload's producer → Kafka → an Apache Camel route (its own JVM,
// camel-main + camel-kafka from Maven Central) → Kafka → iotload's consumer (consumer.external).
const kafka = await requireService('Kafka', '127.0.0.1', 9092)
const jdk = jdkAvailable()
if (!jdk) {
  const line = 'no JDK (java, javac) on the PATH: the Camel route cannot run'
  if (process.env.CI === 'true') throw new Error(`${line}; CI requires it`)
  process.stderr.write(`\n!!! SKIPPING: ${line}. !!!\n\n`)
}

const root = `camel${randomUUID().slice(0, 8)}`
const topics = {
  envelope: { from: `${root}-telemetry`, to: `${root}-actions` },
  id: { from: `${root}-telemetry-id`, to: `${root}-actions-id` },
}
const PARTITIONS = 4
const routes: CamelRoute[] = []

/** examples/seed-kafka-camel-real.yaml, shortened, on this test's topics, with `external` replaced. */
async function scenario(t: { from: string; to: string }, external: Record<string, unknown>) {
  const s = parseScenarioText(await readFile(example('seed-kafka-camel-real.yaml'), 'utf8'), 'example') as {
    broker: Record<string, unknown>
    producer: Record<string, unknown>
    consumer: Record<string, unknown>
    run: Record<string, unknown>
  }
  Object.assign(s.broker, { partitions: PARTITIONS })
  Object.assign(s.producer, { devices: 10, rate: '20/s', duration: '5s', warmup: '2s', topic: t.from })
  Object.assign(s.consumer, { topic: t.to, external })
  Object.assign(s.run, { drain: '15s' })
  return resolveScenario(s, { env: {} })
}

function report(name: string, s: RunSummary): void {
  const f = (stream: string) => {
    const l = s.streams[stream]?.latency.raw
    return l ? `p50 ${(l.p50 / 1000).toFixed(2)}ms p99 ${(l.p99 / 1000).toFixed(2)}ms` : '-'
  }
  console.log(
    `camel (${name}): e2e ${f('e2e')}; producer→camel ${f('producer-bridge')}, camel ${f('bridge')}, camel→consumer ${f('bridge-consumer')}`,
  )
}

const legs = { 'ipaas-in': '$.receivedAt', 'ipaas-out': '$.decidedAt' }

describe.skipIf(!kafka || !jdk)('an Apache Camel route between iotload and itself on Kafka', () => {
  beforeAll(async () => {
    await fetchCamel()
    // Both JVMs start at once; each is ready when a probe has gone through it.
    routes.push(
      startCamelRoute({ ...topics.envelope, keep: 'envelope', partitions: PARTITIONS, drop: '3:10:3' }),
      startCamelRoute({ ...topics.id, keep: 'id', partitions: PARTITIONS }),
    )
    const plugin = await loadPlugin('kafka')
    const config = { url: 'kafka://127.0.0.1:9092', partitions: PARTITIONS }
    await Promise.all([
      awaitCamelRoute(plugin, config, routes[0]!, topics.envelope.from, topics.envelope.to),
      awaitCamelRoute(plugin, config, routes[1]!, topics.id.from, topics.id.to),
    ])
  })

  afterAll(async () => {
    for (const r of routes.splice(0)) await r.stop()
  })

  it('envelope passed through: exact loss per device (the route drops device 3’s seq % 10 = 3), legs, co', async () => {
    const resolved = await scenario(topics.envelope, {
      envelopePath: '$.original.iotload',
      format: 'epoch-us',
      legs,
    })
    const summary = await startRun(resolved, { logger: collectingLogger() }).result
    report('envelope', summary)
    expect(summary.run.status).toBe('completed')
    const e2e = summary.streams.e2e!
    // 10 devices × 20/s × 5 s; device 3's measured seqs are 40–139, of which 10 end in 3.
    expect(e2e).toMatchObject({
      sent: 1000,
      received: 990,
      lost: 10,
      undelivered: 0,
      duplicates: 0,
      invalid: 0,
    })
    expect(summary.devices?.tracked).toBe(10)
    expect(summary.devices?.worst.loss).toEqual([
      expect.objectContaining({ device: 3, sent: 100, received: 90, lost: 10 }),
    ])
    expect(e2e.latency.co?.count).toBe(990)
    expect(summary.timestamps).toMatchObject({ source: 'envelope', resolutionUs: 1, via: 'envelopePath' })
    for (const leg of ['producer-bridge', 'bridge', 'bridge-consumer'])
      expect(summary.streams[leg]?.latency.raw.count, leg).toBeGreaterThan(980)
    expect(summary.legs.find((l) => l.stream === 'bridge')).toMatchObject({
      from: 'ipaas-in',
      to: 'ipaas-out',
    })
  })

  it('a route that keeps only the msgId: correlation ids give exact counts and latency without a timestamp', async () => {
    const resolved = await scenario(topics.id, { correlationPath: '$.msgId', format: 'epoch-us', legs })
    const summary = await startRun(resolved, { logger: collectingLogger() }).result
    report('msgId', summary)
    const e2e = summary.streams.e2e!
    expect(e2e).toMatchObject({ sent: 1000, received: 1000, lost: 0, duplicates: 0, invalid: 0 })
    expect(e2e.latency.raw.count).toBe(1000)
    expect(e2e.latency.co?.count).toBe(1000)
    expect(summary.timestamps).toMatchObject({ via: 'correlation', expiredIds: 0 })
    expect(summary.devices?.worst.loss).toEqual([])
  })
})
