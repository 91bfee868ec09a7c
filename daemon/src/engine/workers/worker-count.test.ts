import { describe, expect, it } from 'vitest'
import { resolveScenario } from '../../scenario/load-scenario.ts'
import { brokerPlacement, type ThisMachine, thisMachine } from './broker-placement.ts'
import { type PlanMachine, workerPlan } from './worker-count.ts'

const resolvedWith = (workers: number | 'auto', extra: Record<string, unknown> = {}) =>
  resolveScenario({
    broker: { plugin: 'memory', bus: 'worker-count' },
    producer: { devices: 10, rate: '1/s', duration: '10s', warmup: '0s', topic: 'w/{device}' },
    run: { workers },
    ...extra,
  })

const elsewhere = (cores: number): PlanMachine => ({ cores, placement: () => ({ where: 'elsewhere' }) })
const local = (cores: number): PlanMachine => ({
  cores,
  placement: () => ({ where: 'local', host: '127.0.0.1' }),
})

describe('workerPlan: producer threads of a run', () => {
  it('workers: 1 is the main thread alone, on any machine', async () => {
    expect(workerPlan(await resolvedWith(1), undefined, elsewhere(16))).toEqual({ producers: 1 })
  })

  it('workers: N is N producer workers, capped by the devices, wherever the broker is', async () => {
    expect(workerPlan(await resolvedWith(4), undefined, local(2)).producers).toBe(4)
    expect(workerPlan(await resolvedWith(64), undefined, elsewhere(2)).producers).toBe(10)
  })

  it('auto with the broker elsewhere (or none): one producer worker per core, capped by the devices', async () => {
    const r = await resolvedWith('auto')
    expect(workerPlan(r, undefined, elsewhere(2))).toEqual({ producers: 2 })
    expect(workerPlan(r, undefined, elsewhere(64)).producers).toBe(10)
    expect(workerPlan(r, undefined, elsewhere(1)).producers).toBe(1)
    expect(workerPlan(r, undefined, { cores: 4, placement: () => ({ where: 'unknown' }) }).producers).toBe(4)
  })

  it('auto beside a broker on this machine leaves it half the cores, and says so', async () => {
    const r = await resolvedWith('auto')
    const two = workerPlan(r, undefined, local(2))
    expect(two.producers).toBe(1)
    expect(two.note).toMatch(/auto ran one thread: the broker at 127\.0\.0\.1 shares this machine's 2 cores/)
    // A number never asks where the broker is.
    const asked = () => {
      throw new Error('placement asked for')
    }
    expect(workerPlan(await resolvedWith(3), undefined, { cores: 2, placement: asked }).producers).toBe(3)
    const eight = workerPlan(r, undefined, local(8))
    expect(eight.producers).toBe(4)
    expect(eight.note).toMatch(/auto ran 4 producer workers/)
    // Capped by the devices before the broker's share matters: nothing was left out, nothing to say.
    const few = await resolvedWith('auto', {
      producer: { devices: 3, rate: '1/s', duration: '10s', warmup: '0s', topic: 'w/{device}' },
    })
    expect(workerPlan(few, undefined, local(16))).toEqual({ producers: 3 })
  })

  it('per-message telemetry keeps the run on the main thread', async () => {
    expect(workerPlan(await resolvedWith('auto'), { onSend: () => undefined }, elsewhere(8)).producers).toBe(
      1,
    )
  })
})

describe('brokerPlacement: where the run’s brokers are, as their plugins say', () => {
  const machine: ThisMachine = { isOwn: (h) => h === '127.0.0.1' || h === 'localhost' }
  const mqtt = (url: string) =>
    resolveScenario({
      broker: { plugin: 'mqtt', url },
      producer: { devices: 2, rate: '1/s', duration: '1s', topic: 't/{device}' },
    })

  it('a broker on a loopback address or localhost is local; another host is elsewhere', async () => {
    expect(brokerPlacement(await mqtt('mqtt://127.0.0.1:1883'), machine)).toEqual({
      where: 'local',
      host: '127.0.0.1',
    })
    expect(brokerPlacement(await mqtt('mqtt://broker.example:1883'), machine)).toEqual({ where: 'elsewhere' })
  })

  it('an IPv4-mapped loopback in a URL is local too', async () => {
    expect(brokerPlacement(await mqtt('mqtt://[::ffff:127.0.0.1]:1883'), thisMachine())).toMatchObject({
      where: 'local',
    })
  })

  it('the in-process memory broker is nowhere else to leave cores for', async () => {
    expect(brokerPlacement(await resolvedWith('auto'), machine)).toEqual({ where: 'elsewhere' })
  })

  it('a plugin that does not say, or throws, leaves the placement unknown', async () => {
    const r = await resolvedWith('auto')
    const silent = { ...r, broker: { ...r.broker, plugin: { ...r.broker.plugin, brokerHosts: undefined } } }
    expect(brokerPlacement(silent, machine)).toEqual({ where: 'unknown' })
    const throwing = {
      ...r,
      broker: {
        ...r.broker,
        plugin: {
          ...r.broker.plugin,
          brokerHosts: () => {
            throw new Error('boom')
          },
        },
      },
    }
    expect(brokerPlacement(throwing, machine)).toEqual({ where: 'unknown' })
  })

  it('thisMachine knows loopback, localhost names and its own interfaces', () => {
    const m = thisMachine()
    const own = [
      '127.0.0.1',
      '127.3.0.9',
      '127.1',
      'LOCALHOST',
      'localhost.',
      'a.localhost',
      '::1',
      '[::1]',
      '0:0:0:0:0:0:0:1',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
    ]
    for (const h of own) expect(m.isOwn(h), h).toBe(true)
    for (const other of ['broker.example', '10.255.255.254', '128.0.0.1', '::2', '::ffff:8.8.8.8'])
      expect(m.isOwn(other), other).toBe(false)
  })
})
