import { afterEach, describe, expect, it } from 'vitest'
import type { BrokerPlugin } from '@iotload/sdk'
import type { SecondReport } from './recorder.ts'
import { startRun } from './run.ts'
import { ManualClock } from './testing/manual-clock.ts'
import {
  collectingLogger,
  memoryScenario,
  type PublishCall,
  spyPlugin,
  withPlugin,
} from './testing/memory-scenario.ts'

// A mixed fleet on the in-process bus with a self-advancing clock: exact counts per group.
const stops: Array<() => Promise<void>> = []
afterEach(async () => {
  await Promise.all(stops.splice(0).map((s) => s()))
})

const relaxed = { generator: { maxEventLoopDelay: '10s' }, drain: '1s' }

function fleet(extra: Record<string, unknown> = {}) {
  return {
    producers: [
      { name: 'meters', devices: 4, rate: '2/s', duration: '3s', topic: '{group}/{device}/t', qos: 1 },
      {
        name: 'trackers',
        devices: 2,
        rate: '10/s',
        duration: '3s',
        topic: '{group}/{device}/pos',
        payload: { kind: '{group}', lat: '{float:0:90:3}' },
        auth: { username: '{group}-{device}', password: 'pw-{device}' },
      },
    ],
    run: relaxed,
    ...extra,
  }
}

describe('device groups', () => {
  it('runs each group at its own rate, topic, payload and credentials, with device ids unique across groups', async () => {
    const { resolved } = await memoryScenario(fleet())
    const calls: PublishCall[] = []
    const users: Array<string | undefined> = []
    const base = resolved.broker.plugin
    const spied = spyPlugin(base, calls)
    const plugin: BrokerPlugin = {
      ...spied,
      connect: (config, ctx) => {
        if (ctx.role === 'producer') users.push(ctx.credentials?.username)
        return spied.connect(config, ctx)
      },
    }
    const clock = new ManualClock()
    stops.push(clock.autoAdvance().stop)
    const seconds: SecondReport[] = []
    const summary = await startRun(withPlugin(resolved, plugin), {
      logger: collectingLogger(),
      clock,
      onSecond: (r) => seconds.push(r),
    }).result
    expect(summary.run.status).toBe('completed')
    // meters are devices 0-3 (no credentials: broker.auth is absent), trackers 4-5 with their own.
    expect(users.filter((u) => u !== undefined).sort()).toEqual(['trackers-4', 'trackers-5'])
    const topics = new Set(calls.map((c) => c.topic))
    expect([...topics].sort()).toEqual([
      'meters/0/t',
      'meters/1/t',
      'meters/2/t',
      'meters/3/t',
      'trackers/4/pos',
      'trackers/5/pos',
    ])
    const tracker = calls.find((c) => c.topic.startsWith('trackers/'))!
    expect(JSON.parse(Buffer.from(tracker.msg.payload).toString())).toMatchObject({ kind: 'trackers' })
    expect(calls.find((c) => c.topic.startsWith('meters/'))!.msg.qos).toBe(1)
    expect(tracker.msg.qos).toBe(0)
    // 4 × 2/s × 3 s and 2 × 10/s × 3 s.
    expect(summary.streams.e2e).toMatchObject({ sent: 84, received: 84, lost: 0 })
    expect(summary.target).toMatchObject({ devices: 6, totalRate: 28 })
    expect(
      summary.groups?.map((g) => [g.group, g.firstDevice, g.devices, g.sent, g.received, g.lost]),
    ).toEqual([
      ['meters', 0, 4, 24, 24, 0],
      ['trackers', 4, 2, 60, 60, 0],
    ])
    expect(summary.groups?.map((g) => g.targetRate)).toEqual([8, 20])
    for (const g of summary.groups ?? []) expect(g.latency.raw.count).toBe(g.received)
    // Live lines: each second names both groups, and the measured seconds add up to the totals.
    expect(seconds[1]?.groups?.map((g) => g.group)).toEqual(['meters', 'trackers'])
    const sentPerGroup = (name: string) =>
      seconds.reduce((n, r) => n + (r.groups?.find((g) => g.group === name)?.sent ?? 0), 0)
    expect([sentPerGroup('meters'), sentPerGroup('trackers')]).toEqual([24, 60])
  })

  it('a single producer runs as before: no group breakdown', async () => {
    const { resolved } = await memoryScenario({
      producer: { devices: 2, rate: '5/s', duration: '2s', topic: 'one/{device}' },
      run: relaxed,
    })
    expect(resolved.scenario.grouped).toBe(false)
    const clock = new ManualClock()
    stops.push(clock.autoAdvance().stop)
    const summary = await startRun(resolved, { logger: collectingLogger(), clock }).result
    expect(summary.streams.e2e).toMatchObject({ sent: 20, received: 20 })
    expect(summary.groups).toBeUndefined()
  })

  it('counts loss in the group whose devices lost it', async () => {
    const { resolved, bus } = await memoryScenario(fleet())
    const clock = new ManualClock()
    stops.push(clock.autoAdvance().stop)
    // Drop every tracker message with an odd seq on the way (device 4's and 5's).
    const plugin = spyPlugin(resolved.broker.plugin, [], {})
    const dropping: BrokerPlugin = {
      ...plugin,
      async connect(config, ctx) {
        const conn = await plugin.connect(config, ctx)
        return {
          subscribe: (filter, onMessage, options) => conn.subscribe(filter, onMessage, options),
          close: () => conn.close(),
          publish: (topic, msg) => {
            const doc = JSON.parse(Buffer.from(msg.payload).toString()) as { iotload: { seq: number } }
            if (topic.startsWith('trackers/') && doc.iotload.seq % 2 === 1 && doc.iotload.seq < 20)
              return Promise.resolve()
            return conn.publish(topic, msg)
          },
        }
      },
    }
    void bus
    const summary = await startRun(withPlugin(resolved, dropping), { logger: collectingLogger(), clock })
      .result
    const [meters, trackers] = summary.groups ?? []
    expect(meters).toMatchObject({ sent: 24, received: 24, lost: 0 })
    expect(trackers).toMatchObject({ sent: 60, received: 40, lost: 20 })
    expect(summary.streams.e2e?.lost).toBe(20)
  })
})

describe('device groups: bad input', () => {
  it.each([
    [
      'duplicate names',
      {
        producers: [
          { name: 'a', devices: 1, rate: '1/s', duration: '1s' },
          { name: 'a', devices: 1, rate: '1/s', duration: '1s' },
        ],
      },
      'producers[1].name',
      /duplicate group name 'a'/,
    ],
    [
      'producer and producers',
      {
        producer: { devices: 1, rate: '1/s', duration: '1s' },
        producers: [{ name: 'a', devices: 1, rate: '1/s', duration: '1s' }],
      },
      'producers',
      /not both/,
    ],
    [
      'a group without a rate',
      { producers: [{ name: 'a', devices: 1, duration: '1s' }] },
      'producers[0].rate',
      /exactly one of rate/,
    ],
    [
      'a bad name',
      { producers: [{ name: 'a/b', devices: 1, rate: '1/s', duration: '1s' }] },
      'producers[0].name',
      /letters, digits/,
    ],
    [
      'schedules that differ',
      {
        producers: [
          { name: 'a', devices: 1, rate: '1/s', duration: '1s' },
          { name: 'b', devices: 1, rate: '1/s', duration: '2s' },
        ],
      },
      'producers[1].duration',
      /one schedule/,
    ],
    [
      'an unknown key in a group',
      { producers: [{ name: 'a', devices: 1, rate: '1/s', duration: '1s', colour: 'red' }] },
      'producers[0].colour',
      /unknown key/,
    ],
    ['neither', {}, 'producer', /required/],
  ])('refuses %s, naming the field', async (_what, scenario, path, message) => {
    const err = await memoryScenario(scenario).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'CONFIG_INVALID', path })
    expect((err as Error).message).toMatch(message)
  })
})
