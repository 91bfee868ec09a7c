import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { testBrokerPlugin } from '@iotload/sdk/conformance'
import { requireService } from '@iotload/sdk/testing'
import { afterAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { mqttPlugin } from './plugin.ts'

/**
 * The README's RabbitMQ-MQTT claim, proven: the MQTT plugin against RabbitMQ's own MQTT plugin
 * (scripts/services/rabbitmq-mqtt.sh enables it on 127.0.0.1:1884 without restarting RabbitMQ).
 * RabbitMQ 3.10 speaks MQTT 3.1.1, which has no user properties: headers are off for this run.
 */
const PORT = Number(process.env.RABBITMQ_MQTT_PORT ?? 1884)
const up = await requireService(
  'RabbitMQ MQTT plugin (bash scripts/services/rabbitmq-mqtt.sh start)',
  '127.0.0.1',
  PORT,
)
const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`
const BIN = join(import.meta.dirname, '..', '..', '..', 'daemon', 'bin', 'iotload.js')
const dir = mkdtempSync(join(tmpdir(), 'iotload-rmq-mqtt-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const guest = { username: 'guest', password: 'guest' }

describe.skipIf(!up)('mqtt against RabbitMQ’s MQTT plugin', () => {
  testBrokerPlugin(
    { ...mqttPlugin, capabilities: { ...mqttPlugin.capabilities, headers: false } },
    {
      name: 'mqtt on rabbitmq',
      config: { url: `mqtt://127.0.0.1:${PORT}`, version: '3.1.1' },
      credentials: guest,
      topic: (s) => `conf/${run}/${s}`,
      wildcard: { filter: `conf/${run}/wild/+`, topics: [`conf/${run}/wild/a`, `conf/${run}/wild/b`] },
      proxy: {
        host: '127.0.0.1',
        port: PORT,
        configFor: (port) => ({
          url: `mqtt://127.0.0.1:${port}`,
          version: '3.1.1',
          reconnectPeriod: '100ms',
        }),
      },
      auth: { invalid: { username: 'guest', password: 'not-the-guest-password' }, valid: guest },
    },
  )

  it('carries a bridged iotload run end to end with nothing lost', async () => {
    const { spawnSync } = await import('node:child_process')
    const file = join(dir, 'rmq.yaml')
    writeFileSync(
      file,
      stringify({
        name: 'rabbitmq mqtt',
        broker: { plugin: 'mqtt', url: `mqtt://127.0.0.1:${PORT}`, version: '3.1.1', auth: guest },
        producer: {
          devices: 50,
          rate: '10/s',
          duration: '3s',
          warmup: '1s',
          topic: `it-rmq/${run}/devices/{device}/telemetry`,
          payload: { v: '{int:1:9}' },
          qos: 1,
        },
        bridge: { from: `it-rmq/${run}/devices/{device}/telemetry`, to: `it-rmq/${run}/actions/{device}` },
        slo: { loss: 0 },
      }),
    )
    const out = join(dir, 'summary.json')
    const r = spawnSync(
      process.execPath,
      [BIN, 'run', file, '--json', out, '--db', join(dir, 'r.db'), '-q'],
      {
        encoding: 'utf8',
      },
    )
    expect(r.status, r.stderr).toBe(0)
    const e2e = (
      JSON.parse(readFileSync(out, 'utf8')) as { streams: { e2e: { sent: number; received: number } } }
    ).streams.e2e
    expect(e2e.sent).toBe(1500)
    expect(e2e.received).toBe(1500)
  }, 60_000)
})
