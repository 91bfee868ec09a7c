import { describe, expect, it } from 'vitest'
import type { MemberInfo } from './member.ts'
import { producerScenario, splitDevices } from './plan.ts'

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

describe('producerScenario', () => {
  it('narrows the fleet, scales totalRate, turns consumer and bridge off', () => {
    const raw = {
      producer: { devices: 400, totalRate: '800/s', topic: 't/{device}' },
      consumer: { qos: 1 },
      bridge: { from: 'a', to: 'b' },
    }
    const s = producerScenario(raw, { member: 'a', firstDevice: 100, devices: 100 }, 400)
    expect(s.producer).toEqual({ devices: 100, firstDevice: 100, totalRate: '200/s', topic: 't/{device}' })
    expect(s.consumer).toEqual({ qos: 1, enabled: false })
    expect(s.bridge).toBeUndefined()
    expect(raw.producer.devices).toBe(400)
  })

  it('gives each producer its share of the stage targets and the connect rate', () => {
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
    const s = producerScenario(raw, { member: 'a', firstDevice: 0, devices: 100 }, 400)
    expect(s.producer).toMatchObject({
      stages: [
        { duration: '5s', target: '1000/s' },
        { duration: '5s', target: 200, ramp: 'step' },
      ],
      connectRate: '50/s',
    })
    expect(raw.producer.stages[0]!.target).toBe('4000/s')
  })
})
