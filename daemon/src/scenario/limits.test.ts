import { describe, expect, it } from 'vitest'
import { checkLimits } from './limits.ts'
import { withFleet } from './producer-groups.ts'
import { type Scenario, scenarioSchema } from './schema.ts'
import { DEFAULT_LIMITS } from './trust-policy.ts'

const scenario = (producer: Record<string, unknown>, extra: Record<string, unknown> = {}): Scenario =>
  withFleet(
    scenarioSchema.parse({
      broker: { plugin: 'mqtt' },
      producer: { devices: 10, rate: '10/s', duration: '10s', ...producer },
      ...extra,
    }),
  )

function pathOf(s: Scenario, limits = DEFAULT_LIMITS): string | undefined {
  try {
    checkLimits(s, limits)
  } catch (err) {
    return (err as { path: string }).path
  }
  return undefined
}

describe('checkLimits', () => {
  it('accepts what fits and names the field of what does not', () => {
    expect(pathOf(scenario({}))).toBeUndefined()
    expect(pathOf(scenario({ rate: '1000000/s' }))).toBe('producer.rate')
    expect(pathOf(scenario({ rate: undefined, totalRate: 1e300 }))).toBe('producer.totalRate')
    expect(pathOf(scenario({ devices: 1_000_001, rate: '1/min' }))).toBe('producer.devices')
    expect(pathOf(scenario({ connections: 2e6 }))).toBe('producer.connections')
    expect(
      pathOf(scenario({ duration: '167h', warmup: '1h', rate: '1/min' }, { run: { drain: '1s' } })),
    ).toBe('producer.duration')
    expect(pathOf(scenario({ envelope: 'binary', payloadSize: 1024 * 1024 + 1 }))).toBe(
      'producer.payloadSize',
    )
    expect(pathOf(scenario({}, { run: { workers: 64 } }))).toBeUndefined()
    expect(pathOf(scenario({}, { run: { workers: 65 } }))).toBe('run.workers')
    expect(
      pathOf(scenario({}, { run: { workers: 65 } }), { ...DEFAULT_LIMITS, maxWorkers: 128 }),
    ).toBeUndefined()
    expect(pathOf(scenario({}, { run: { workers: 'auto' } }))).toBeUndefined()
  })

  it('lets the operator raise a cap', () => {
    const s = scenario({ rate: '1000000/s' })
    expect(pathOf(s, { ...DEFAULT_LIMITS, maxRate: 20_000_000 })).toBeUndefined()
  })
})
