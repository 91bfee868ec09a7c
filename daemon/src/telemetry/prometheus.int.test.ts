import { type ChildProcess, spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { bucketRange } from '@iotload/otel'
import { requireService } from '@iotload/sdk/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import type { RunSummary } from '../engine/summary.ts'
import { eventually, freePort, requireBinary, runCli } from './test-helpers.ts'

const PROMETHEUS = process.env.PROMETHEUS_BIN ?? '/usr/bin/prometheus'
const DASHBOARD = fileURLToPath(new URL('../../../deploy/grafana/iotload-dashboard.json', import.meta.url))
const mosquitto = await requireService('Mosquitto', '127.0.0.1', 1883)
const prometheusInstalled = requireBinary(
  'Prometheus',
  PROMETHEUS,
  'bash scripts/services/prometheus.sh start',
)

interface PromSample {
  metric: Record<string, string>
  value: [number, string]
}

describe.skipIf(!mosquitto || !prometheusInstalled)(
  'Prometheus scrapes an iotload run (--metrics-port)',
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'iotload-prom-'))
    let prom: ChildProcess | undefined
    let promUrl = ''
    let metricsPort = 0
    let promLog = ''

    /** Evaluation time (s): while the run's endpoint was still up, before staleness markers. */
    let at = 0
    const query = async (q: string): Promise<PromSample[]> => {
      const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(q)}&time=${at}`)
      const body = (await res.json()) as { status: string; data: { result: PromSample[] }; error?: string }
      if (body.status !== 'success') throw new Error(`${q}: ${body.error}`)
      return body.data.result
    }
    const one = async (q: string): Promise<PromSample | undefined> => {
      const r = await query(q)
      return r.length === 1 ? r[0] : undefined
    }

    beforeAll(async () => {
      metricsPort = await freePort()
      const webPort = await freePort()
      promUrl = `http://127.0.0.1:${webPort}`
      const config = join(dir, 'prometheus.yml')
      writeFileSync(
        config,
        stringify({
          global: { scrape_interval: '1s', scrape_timeout: '900ms' },
          scrape_configs: [
            { job_name: 'iotload', static_configs: [{ targets: [`127.0.0.1:${metricsPort}`] }] },
          ],
        }),
      )
      prom = spawn(
        PROMETHEUS,
        [
          `--config.file=${config}`,
          `--storage.tsdb.path=${join(dir, 'tsdb')}`,
          `--web.listen-address=127.0.0.1:${webPort}`,
          '--log.level=warn',
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      )
      prom.stderr?.on('data', (d) => {
        promLog += d
      })
      await eventually(
        async () => ((await fetch(`${promUrl}/-/ready`)).ok ? true : undefined),
        30_000,
        'prometheus ready',
      )
    }, 40_000)

    afterAll(async () => {
      if (prom && prom.exitCode === null) {
        prom.kill('SIGTERM')
        await new Promise((r) => prom?.once('exit', r))
      }
      rmSync(dir, { recursive: true, force: true })
    })

    it('sees the latency histogram and counters with the run labels, and p99 agrees with iotload', async () => {
      const ns = `iotload/it-prom-${randomUUID().slice(0, 8)}`
      const scenario = join(dir, 'scenario.yaml')
      writeFileSync(
        scenario,
        stringify({
          name: 'prometheus scrape',
          broker: { plugin: 'mqtt', url: 'mqtt://127.0.0.1:1883' },
          producer: {
            devices: 20,
            rate: '20/s',
            duration: '6s',
            warmup: '1s',
            topic: `${ns}/devices/{device}/telemetry`,
            payload: { temperature: '{float:15:30:1}' },
            qos: 1,
          },
          bridge: { from: `${ns}/devices/{device}/telemetry`, to: `${ns}/actions/{device}` },
        }),
      )
      const out = join(dir, 'summary.json')
      const r = await runCli(
        [
          'run',
          scenario,
          '--metrics-port',
          String(metricsPort),
          '--json',
          out,
          '--db',
          join(dir, 'r.db'),
          '-q',
        ],
        // Keep /metrics up after the run so Prometheus scrapes the final figures.
        { IOTLOAD_METRICS_LINGER_MS: '6000' },
      )
      expect(r.stderr + promLog).not.toMatch(/telemetry: /)
      expect([0, 1]).toContain(r.code)
      // /metrics stayed up 6 s after the run (scraped every 1 s) and is gone now: once a scrape
      // fails, Prometheus marks the series stale, so evaluate at a moment inside the linger.
      at = (Date.now() - 2000) / 1000
      const summary = JSON.parse(readFileSync(out, 'utf8')) as RunSummary
      const e2e = summary.streams.e2e!
      expect(e2e.received).toBeGreaterThan(1000)
      const run = summary.run.id
      const consumerLabels = {
        run,
        role: 'consumer',
        messaging_system: 'mqtt',
        messaging_destination_name: `${ns}/actions/+`,
        job: 'iotload',
      }

      // The last scrape may lag the run's end by a second: wait for the final count.
      const count = await eventually(
        async () => {
          const s = await one(`iotload_e2e_latency_milliseconds_count{run="${run}"}`)
          return s && Number(s.value[1]) === e2e.latency.raw.count ? s : undefined
        },
        15_000,
        `histogram count ${e2e.latency.raw.count} in Prometheus`,
      )
      expect(count.metric).toMatchObject(consumerLabels)

      const sent = await one(`iotload_messages_sent_total{run="${run}"}`)
      expect(Number(sent?.value[1])).toBe(e2e.sent)
      expect(sent?.metric).toMatchObject({
        role: 'producer',
        messaging_system: 'mqtt',
        messaging_destination_name: `${ns}/devices/{device}/telemetry`,
      })
      const received = await one(`iotload_messages_received_total{run="${run}"}`)
      expect(Number(received?.value[1])).toBe(e2e.received)
      expect(received?.metric).toMatchObject(consumerLabels)
      expect(Number((await one(`iotload_messages_lost_total{run="${run}"}`))?.value[1])).toBe(e2e.lost)

      // Per-leg histograms exist for the bridge's legs; no series carries a per-device label.
      const legs = await query(`iotload_leg_latency_milliseconds_count{run="${run}"}`)
      expect(legs.map((s) => s.metric.leg).sort()).toEqual([
        'bridge',
        'bridge-consumer',
        'producer-bridge',
        'publish-ack',
      ])
      const series = await query(`{run="${run}"}`)
      for (const s of series) expect(Object.keys(s.metric).filter((k) => /device/.test(k))).toEqual([])

      // Every query of the Grafana dashboard runs against the real Prometheus.
      const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
        panels: Array<{ targets: Array<{ expr: string }> }>
      }
      const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr))
      expect(exprs.length).toBeGreaterThan(10)
      for (const expr of exprs) {
        const q = expr.replaceAll('$run', run).replaceAll('$__rate_interval', '10s')
        await expect(query(q), q).resolves.toBeDefined()
      }
      expect(await query(exprs[0]!.replaceAll('$run', run))).toHaveLength(1)

      const p99 = await one(`histogram_quantile(0.99, iotload_e2e_latency_milliseconds_bucket{run="${run}"})`)
      const promP99 = Number(p99?.value[1])
      const ownP99 = e2e.latency.raw.p99 / 1000
      const [lo, hi] = bucketRange(ownP99)
      process.stderr.write(
        `prometheus p99 ${promP99.toFixed(3)} ms, iotload p99 ${ownP99.toFixed(3)} ms, bucket (${lo}, ${hi}]\n`,
      )
      expect(Math.abs(promP99 - ownP99)).toBeLessThanOrEqual(hi - lo)
    }, 120_000)
  },
)
