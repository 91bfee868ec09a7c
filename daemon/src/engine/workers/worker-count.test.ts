import { describe, expect, it } from 'vitest'
import { resolveScenario } from '../../scenario/load-scenario.ts'
import { producerWorkers } from './worker-count.ts'

const scenarioWith = async (workers: number | 'auto', extra: Record<string, unknown> = {}) =>
  (
    await resolveScenario({
      broker: { plugin: 'memory', bus: 'worker-count' },
      producer: { devices: 10, rate: '1/s', duration: '10s', warmup: '0s', topic: 'w/{device}' },
      run: { workers },
      ...extra,
    })
  ).scenario

describe('producerWorkers: producer threads of a run', () => {
  it('workers: 1 is the main thread alone, on any machine', async () => {
    expect(producerWorkers(await scenarioWith(1), undefined, 16)).toBe(1)
  })

  it('workers: N is N producer workers, capped by the devices', async () => {
    expect(producerWorkers(await scenarioWith(4), undefined, 2)).toBe(4)
    expect(producerWorkers(await scenarioWith(64), undefined, 2)).toBe(10)
  })

  it('auto: one producer worker per core, capped by the devices', async () => {
    const s = await scenarioWith('auto')
    // Two cores keep two producer workers beside the consumer's: one producer worker (a thread per
    // core) was measured worse for Kafka's seed example (LIMITED) and no better for RabbitMQ.
    expect(producerWorkers(s, undefined, 2)).toBe(2)
    expect(producerWorkers(s, undefined, 64)).toBe(10)
    expect(producerWorkers(s, undefined, 1)).toBe(1)
  })

  it('per-message telemetry keeps the run on the main thread', async () => {
    expect(producerWorkers(await scenarioWith('auto'), { onSend: () => undefined }, 8)).toBe(1)
  })
})
