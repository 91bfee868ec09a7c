import { ConfigError } from '@iotload/sdk'
import { describe, expect, it } from 'vitest'
import { resolveScenario } from './load-scenario.ts'
import { localPolicy } from './trust-policy.ts'

const scenario = (producer: Record<string, unknown>) => ({
  broker: { plugin: 'memory' },
  producer: { devices: 10, ...producer },
})

const stages = [
  { duration: '30s', target: '5000/s' },
  { duration: '1m', target: '5000/s' },
  { duration: '30s', target: '20000/s', ramp: 'step' },
]

async function refusal(producer: Record<string, unknown>, maxRate?: number): Promise<ConfigError> {
  const err = await resolveScenario(scenario(producer), {
    env: {},
    ...(maxRate ? { policy: localPolicy({ maxRate }) } : {}),
  }).catch((e: unknown) => e)
  if (!(err instanceof ConfigError)) throw new Error(`expected a ConfigError, got ${String(err)}`)
  return err
}

describe('producer.stages', () => {
  it('parses k6-style stages; they set the duration (less the warm-up), linear unless step', async () => {
    const r = await resolveScenario(scenario({ stages, warmup: '10s' }), { env: {} })
    const p = r.scenario.producer
    expect(p.stages).toEqual([
      { duration: 30_000, target: 5000, ramp: 'linear' },
      { duration: 60_000, target: 5000, ramp: 'linear' },
      { duration: 30_000, target: 20_000, ramp: 'step' },
    ])
    expect(p.duration).toBe(110_000)
    expect(p.rate).toBeUndefined()
    expect(p.totalRate).toBeUndefined()
  })

  it('can come from the environment as YAML', async () => {
    const r = await resolveScenario(scenario({}), {
      env: { IOTLOAD_PRODUCER_STAGES: '[{duration: 5s, target: 100/s}, {duration: 5s, target: 0/s}]' },
    })
    expect(r.scenario.producer.stages?.map((s) => s.target)).toEqual([100, 0])
    expect(r.scenario.producer.duration).toBe(10_000)
  })

  it.each([
    [
      { stages: [{ duration: '0s', target: '10/s' }] },
      /producer\.stages\[0\]\.duration: must be greater than 0/,
    ],
    [{ stages: [{ duration: -5, target: '10/s' }] }, /producer\.stages\[0\]\.duration: expected a duration/],
    [
      { stages: [{ duration: '-5s', target: '10/s' }] },
      /producer\.stages\[0\]\.duration: expected a duration/,
    ],
    [
      {
        stages: [
          { duration: '5s', target: '10/s' },
          { duration: '5s', target: 'fast' },
        ],
      },
      /producer\.stages\[1\]\.target: expected a rate like "5000\/s"/,
    ],
    [{ stages: [{ duration: '5s', target: '-10/s' }] }, /producer\.stages\[0\]\.target: expected a rate/],
    [{ stages: [{ duration: '5s', target: '10/s', ramp: 'exponential' }] }, /producer\.stages\[0\]\.ramp/],
    [{ stages: [] }, /producer\.stages/],
    [{ stages, rate: '1/s' }, /producer\.rate: stages set the rate/],
    [{ stages, totalRate: '1/s' }, /producer\.totalRate: stages set the rate/],
    [{ stages, duration: '10s' }, /producer\.duration: stages set the duration/],
    [
      { stages: [{ duration: '5s', target: '1/s' }], warmup: '5s' },
      /producer\.warmup: the warm-up must end before/,
    ],
    [{ rate: '1/s' }, /producer\.duration: required/],
    [{ duration: '5s' }, /producer\.rate: give exactly one of rate \(per device\), totalRate, or stages/],
  ])('refuses %j naming the field', async (producer, message) => {
    expect((await refusal(producer)).message).toMatch(message)
  })

  it('the curve’s peak counts against --max-rate', async () => {
    const err = await refusal({ stages }, 10_000)
    expect(err.path).toBe('producer.stages')
    expect(err.message).toMatch(/20,000 msg\/s.*--max-rate/)
  })
})

describe('producer.connectRate and producer.reconnectStorm', () => {
  it('parse into connections per second and a time and share', async () => {
    const r = await resolveScenario(
      scenario({
        rate: '1/s',
        duration: '2m',
        connectRate: '500/s',
        reconnectStorm: { at: '60s', fraction: 0.5 },
      }),
      { env: {} },
    )
    expect(r.scenario.producer.connectRate).toBe(500)
    expect(r.scenario.producer.reconnectStorm).toEqual({ at: 60_000, fraction: 0.5 })
  })

  it.each([
    [{ connectRate: 'quick' }, /producer\.connectRate: expected a positive rate/],
    [{ connectRate: '0/s' }, /producer\.connectRate: expected a positive rate/],
    [{ reconnectStorm: { at: '1s', fraction: 0 } }, /producer\.reconnectStorm\.fraction/],
    [{ reconnectStorm: { at: '1s', fraction: 1.5 } }, /producer\.reconnectStorm\.fraction/],
    [
      { reconnectStorm: { at: '10s', fraction: 0.5 } },
      /producer\.reconnectStorm\.at: must fall within the schedule \(5s/,
    ],
    [{ reconnectStorm: { fraction: 0.5 } }, /producer\.reconnectStorm\.at/],
  ])('refuses %j naming the field', async (extra, message) => {
    expect((await refusal({ rate: '1/s', duration: '4s', warmup: '1s', ...extra })).message).toMatch(message)
  })
})
