import { IotloadMetrics } from '@iotload/otel'
import { describe, expect, it } from 'vitest'
import { main } from '../cli/main.ts'
import { combinedMetrics } from './daemon-metrics.ts'

describe('daemon /metrics provider', () => {
  it('serves the OpenTelemetry text and the daemon gauges together', async () => {
    const metrics = new IotloadMetrics()
    metrics.registerRun(
      { run: 'r9', system: 'mqtt', producerDestination: 'd/{device}', consumerDestination: 'd/+' },
      3,
    )
    const provide = combinedMetrics(metrics.provide, () => 'iotload_active_runs 1\n')
    const { body, contentType } = await provide()
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/)
    expect(body).toContain('iotload_messages_sent_total{run="r9"')
    expect(body).toContain('iotload_active_runs 1')
  })

  it('a broken daemon gauge does not take the OpenTelemetry text down', async () => {
    const provide = combinedMetrics(new IotloadMetrics().provide, () => {
      throw new Error('boom')
    })
    expect((await provide()).body).toContain('# TYPE')
  })
})

describe('iotload run --metrics-port', () => {
  it('rejects a non-port value as bad input before anything starts', async () => {
    const errors: string[] = []
    const write = process.stderr.write
    process.stderr.write = ((s: string) => errors.push(s) > 0) as typeof process.stderr.write
    try {
      expect(await main(['run', 'missing.yaml', '--metrics-port', 'ninety'])).toBe(2)
      expect(await main(['run', 'missing.yaml', '--metrics-port', '70000'])).toBe(2)
    } finally {
      process.stderr.write = write
    }
    expect(errors.join('')).toContain('--metrics-port must be a port number')
  })
})
