import { describe, expect, it } from 'vitest'
import type { MemberInfo } from './member.ts'
import { producerSchema } from '../scenario/schema.ts'
import type { ResolvedScenario } from '../scenario/load-scenario.ts'
import { assignRoles, planProducers, producerScenario, splitDevices } from './plan.ts'

const member = (id: string, capacity: number): MemberInfo => ({
  id,
  roles: ['producer'],
  capacity,
  advertise: id,
  pid: 1,
  startedAt: 0,
})

describe('splitDevices', () => {
  it('splits evenly between equal producers, contiguous from firstDevice', () => {
    expect(splitDevices(0, 400, [member('a', 1000), member('b', 1000)])).toEqual([
      { member: 'a', firstDevice: 0, devices: 200 },
      { member: 'b', firstDevice: 200, devices: 200 },
    ])
  })

  it('splits by capacity and never loses or duplicates a device', () => {
    const slots = splitDevices(10, 101, [member('a', 1), member('b', 2), member('c', 7)])
    expect(slots.reduce((s, x) => s + x.devices, 0)).toBe(101)
    expect(slots.map((x) => x.firstDevice)).toEqual([
      10,
      10 + slots[0]!.devices,
      10 + slots[0]!.devices + slots[1]!.devices,
    ])
    expect(slots[2]!.devices).toBeGreaterThan(slots[0]!.devices)
  })

  it('uses no more producers than devices', () => {
    expect(splitDevices(0, 2, [member('a', 1), member('b', 1), member('c', 1)])).toHaveLength(2)
  })
})

describe('planProducers', () => {
  const producer = (fields: Record<string, unknown>) =>
    producerSchema.parse({ duration: '10s', topic: 't/{device}', ...fields })

  it('hands each producer its share of a fleet-wide totalRate as a number, in proportion to its devices', () => {
    // 48000/min is 800/s: the scenario schema parsed it; the plan never reads the text again.
    const slots = planProducers(producer({ devices: 400, totalRate: '48000/min' }), [
      member('a', 1),
      member('b', 3),
    ])
    expect(slots).toEqual([
      { member: 'a', firstDevice: 0, devices: 100, totalRate: 200 },
      { member: 'b', firstDevice: 100, devices: 300, totalRate: 600 },
    ])
  })

  it('gives no share for a per-device rate', () => {
    const slots = planProducers(producer({ devices: 10, rate: '5/s' }), [member('a', 1), member('b', 1)])
    expect(slots.map((s) => s.totalRate)).toEqual([undefined, undefined])
  })
})

describe('producerScenario', () => {
  it('narrows the fleet, sets its rate share, turns consumer and bridge off', () => {
    const raw = {
      producer: { devices: 400, totalRate: '800/s', topic: 't/{device}' },
      consumer: { qos: 1 },
      bridge: { from: 'a', to: 'b' },
    }
    const s = producerScenario(raw, { member: 'a', firstDevice: 100, devices: 100, totalRate: 200 })
    expect(s.producer).toEqual({ devices: 100, firstDevice: 100, totalRate: 200, topic: 't/{device}' })
    expect(s.consumer).toEqual({ qos: 1, enabled: false })
    expect(s.bridge).toBeUndefined()
    expect(raw.producer.devices).toBe(400)
  })

  it('gives each producer its share of the stage targets and the connect rate', () => {
    const producer = producerSchema.parse({
      devices: 400,
      stages: [
        { duration: '5s', target: '4000/s' },
        { duration: '5s', target: 800, ramp: 'step' },
      ],
      connectRate: '200/s',
    })
    const [slot] = planProducers(producer, [member('a', 1000), member('b', 3000)])
    expect(slot).toMatchObject({ devices: 100, stageTargets: [1000, 200], connectRate: 50 })
    const raw = {
      producer: {
        devices: 400,
        stages: [
          { duration: '5s', target: '4000/s' },
          { duration: '5s', target: 800, ramp: 'step' },
        ],
        connectRate: '200/s',
      },
    }
    const s = producerScenario(raw, slot!)
    expect(producerSchema.parse(s.producer)).toMatchObject({
      devices: 100,
      stages: [
        { duration: 5000, target: 1000, ramp: 'linear' },
        { duration: 5000, target: 200, ramp: 'step' },
      ],
      connectRate: 50,
    })
    expect(raw.producer.stages[0]!.target).toBe('4000/s')
  })

  it('replaces a rate the old text rewrite could not scale (a secret reference) with the share', () => {
    const raw = { producer: { devices: 4, totalRate: '${env:FLEET_RATE}', duration: '1s' } }
    const s = producerScenario(raw, { member: 'a', firstDevice: 0, devices: 1, totalRate: 2.5 })
    expect(producerSchema.parse(s.producer).totalRate).toBe(2.5)
  })

  it('leaves a per-device rate alone', () => {
    const raw = { producer: { devices: 4, rate: '10/s', duration: '1s' } }
    const s = producerScenario(raw, { member: 'a', firstDevice: 2, devices: 2 })
    expect(producerSchema.parse(s.producer)).toMatchObject({ firstDevice: 2, devices: 2, rate: 10 })
  })
})

describe('assignRoles', () => {
  const resolved = (bridge: boolean) =>
    ({
      scenario: {
        producer: producerSchema.parse({ devices: 4, totalRate: '8/s', duration: '1s' }),
        consumer: { enabled: true },
        bridge: bridge ? { from: 'a/{device}', to: 'b/{device}' } : undefined,
      },
    }) as unknown as ResolvedScenario
  const withRoles = (id: string, roles: MemberInfo['roles']): MemberInfo => ({ ...member(id, 1), roles })

  it('splits the fleet over producers and takes every consumer and bridge member', () => {
    const roles = assignRoles(resolved(true), [
      withRoles('p', ['producer']),
      withRoles('any', ['any']),
      withRoles('c', ['consumer']),
    ])
    expect(roles.producers.map((s) => [s.member, s.devices, s.totalRate])).toEqual([
      ['p', 2, 4],
      ['any', 2, 4],
    ])
    expect(roles.consumers).toEqual(['any', 'c'])
    expect(roles.bridges).toEqual(['any'])
  })

  it('refuses a run that needs a role no member has', () => {
    expect(() =>
      assignRoles(resolved(true), [withRoles('p', ['producer']), withRoles('c', ['consumer'])]),
    ).toThrow(/no bridge daemon/)
    expect(() => assignRoles(resolved(false), [withRoles('c', ['consumer'])])).toThrow(/no producer daemon/)
  })
})
