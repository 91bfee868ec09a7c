/**
 * One side of the TLS fleet bench, in a process of its own so each side's RSS growth is its own:
 * `raw` opens the connections with plain mqtt.js; `iotload` runs the fleet as a scenario
 * (`iotload-sharded`: the same with `run.workers: 2`, the fleet sharded across threads). Prints
 * one JSON line. Arguments: side, broker URL, CA file, identities CSV, devices.
 */
import { readFileSync } from 'node:fs'
import mqtt, { type MqttClient } from 'mqtt'
import { createLogger } from '../../daemon/src/log/logger.ts'
import { resolveScenario } from '../../daemon/src/scenario/load-scenario.ts'
import { startRun } from '../../daemon/src/engine/run.ts'

const [side, url, caFile, csv, devicesArg, consumerPassword] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
  string,
]
const devices = Number(devicesArg)
const CONCURRENCY = 100
const mb = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10

async function raw(): Promise<void> {
  const ca = readFileSync(caFile)
  const rows = readFileSync(csv, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(','))
  const rss0 = process.memoryUsage().rss
  const t0 = performance.now()
  const clients: MqttClient[] = []
  let next = 0
  let failed = 0
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < devices) {
        const [id, username, password] = rows[next++]!
        try {
          clients.push(
            await mqtt.connectAsync(url, {
              protocolVersion: 5,
              clientId: `raw-${id}`,
              username,
              password,
              ca,
              reconnectPeriod: 0,
              connectTimeout: 60_000,
            }),
          )
        } catch {
          failed++
        }
      }
    }),
  )
  const connectMs = Math.round(performance.now() - t0)
  const rssMb = mb(process.memoryUsage().rss - rss0)
  await Promise.all(clients.map((c) => c.endAsync(true)))
  console.log(JSON.stringify({ connectMs, rssMb, failed }))
}

async function iotload(workers: 1 | 2): Promise<void> {
  const resolved = await resolveScenario(
    {
      name: 'bench tls fleet',
      broker: {
        plugin: 'mqtt',
        url,
        version: '5',
        tls: { ca: caFile },
        auth: { username: 'consumer', password: consumerPassword },
        connectTimeout: '60s',
      },
      producer: {
        devices,
        rate: '0.1/s',
        duration: '30s',
        warmup: '10s',
        qos: 1,
        topic: 'fleet/{device}',
        identities: csv,
        connectConcurrency: CONCURRENCY,
      },
      run: { drain: '10s', workers, generator: { maxEventLoopDelay: '200ms', maxLag: '50ms' } },
    },
    { env: {} },
  )
  const rss0 = process.memoryUsage().rss
  const handle = startRun(resolved, { logger: createLogger({ level: 'error' }) })
  let rssMb: number | undefined
  const poll = setInterval(() => {
    if (rssMb === undefined && handle.live().connect?.done) rssMb = mb(process.memoryUsage().rss - rss0)
  }, 50)
  const s = await handle.result
  clearInterval(poll)
  const e2e = s.streams.e2e
  console.log(
    JSON.stringify({
      connectMs: s.connections?.connectMs,
      rssMb,
      failed: s.connections?.failed,
      status: s.run.status,
      error: s.error,
      sent: e2e?.sent,
      received: e2e?.received,
      lost: (e2e?.lost ?? 0) + (e2e?.undelivered ?? 0),
      p50: e2e?.latency.raw.p50,
      p99: e2e?.latency.raw.p99,
      coP99: e2e?.latency.co?.p99,
      generator: s.generator?.limited ? s.generator.reasons : 'ok',
      workers: s.workers?.producers ?? 1,
    }),
  )
}

await (side === 'raw' ? raw() : iotload(side === 'iotload-sharded' ? 2 : 1))
process.exit(0)
