import type { BrokerPlugin, InboundMessage } from '@iotload/sdk'
import { afterEach, describe, expect, it } from 'vitest'
import { checkConsumerMode } from '../scenario/consumer-mode.ts'
import type { SecondReport } from './recorder.ts'
import { startRun } from './run.ts'
import { ManualClock } from './testing/manual-clock.ts'
import { collectingLogger, memoryScenario, withPlugin } from './testing/memory-scenario.ts'

// Fan-out on the in-process bus with a self-advancing clock: every subscriber held to every message.
const stops: Array<() => Promise<void>> = []
afterEach(async () => {
  await Promise.all(stops.splice(0).map((s) => s()))
})

const relaxed = { generator: { maxEventLoopDelay: '10s' }, drain: '1s' }
const producer = { devices: 4, rate: '5/s', duration: '2s', topic: 'fan/{device}', qos: 1 }

/** Subscriber 1 misses every seq 3 of each device; subscriber 2 gets every seq 5 twice. */
function faulty(plugin: BrokerPlugin): BrokerPlugin {
  return {
    ...plugin,
    async connect(config, ctx) {
      const conn = await plugin.connect(config, ctx)
      const lane = ctx.role === 'consumer' ? Number(ctx.clientId.split('-').pop()) : -1
      return {
        publish: (topic, msg) => conn.publish(topic, msg),
        close: () => conn.close(),
        subscribe: (filter, onMessage, options) =>
          conn.subscribe(
            filter,
            (m: InboundMessage) => {
              const seq = (JSON.parse(Buffer.from(m.payload).toString()) as { iotload: { seq: number } })
                .iotload.seq
              if (lane === 1 && seq === 3) return
              onMessage(m)
              if (lane === 2 && seq === 5) onMessage(m)
            },
            options,
          ),
      }
    },
  }
}

describe('consumer.mode: fanout', () => {
  it('every subscriber receives every message and is accounted on its own', async () => {
    const { resolved } = await memoryScenario({
      producer,
      consumer: { mode: 'fanout', connections: 3 },
      run: relaxed,
    })
    const clock = new ManualClock()
    stops.push(clock.autoAdvance().stop)
    const seconds: SecondReport[] = []
    const summary = await startRun(withPlugin(resolved, faulty(resolved.broker.plugin)), {
      logger: collectingLogger(),
      clock,
      onSecond: (r) => seconds.push(r),
    }).result
    expect(summary.run.status).toBe('completed')
    // 40 measured messages, owed to 3 subscribers: 120 deliveries; subscriber 1 misses 4 (one per device).
    expect(summary.streams.e2e).toMatchObject({
      sent: 40,
      expected: 120,
      received: 116,
      lost: 4,
      duplicates: 4,
    })
    expect(summary.streams.e2e?.latency.raw.count).toBe(116)
    expect(
      summary.subscribers?.map((s) => [s.subscriber, s.received, s.lost, s.undelivered, s.duplicates]),
    ).toEqual([
      [0, 40, 0, 0, 0],
      [1, 36, 4, 0, 0],
      [2, 40, 0, 0, 4],
    ])
    for (const s of summary.subscribers ?? []) expect(s.latency.raw.count).toBe(s.received)
    const perSecond = (k: number) =>
      seconds.reduce((n, r) => n + (r.subscribers?.find((s) => s.subscriber === k)?.received ?? 0), 0)
    expect([perSecond(0), perSecond(1), perSecond(2)]).toEqual([40, 36, 40])
  })

  it('the loss ratio of a fan-out is over the deliveries owed', async () => {
    const { resolved } = await memoryScenario({
      producer,
      consumer: { mode: 'fanout', connections: 3 },
      slo: { loss: '3.4%' },
      run: relaxed,
    })
    const clock = new ManualClock()
    stops.push(clock.autoAdvance().stop)
    const summary = await startRun(withPlugin(resolved, faulty(resolved.broker.plugin)), {
      logger: collectingLogger(),
      clock,
    }).result
    // 4 of 120 = 3.33 %: within 3.4 % (over the 40 sends it would be 10 %).
    expect(summary.slo.find((v) => v.key === 'loss')).toMatchObject({ actual: '3.33%', pass: true })
  })

  it('shared mode stays a competing group: each message once', async () => {
    const { resolved } = await memoryScenario({ producer, consumer: { connections: 3 }, run: relaxed })
    const clock = new ManualClock()
    stops.push(clock.autoAdvance().stop)
    const summary = await startRun(resolved, { logger: collectingLogger(), clock }).result
    expect(summary.streams.e2e).toMatchObject({ sent: 40, received: 40, lost: 0, duplicates: 0 })
    expect(summary.streams.e2e?.expected).toBeUndefined()
    expect(summary.subscribers).toBeUndefined()
  })
})

describe('consumer.mode: fanout, refused', () => {
  it('on a plugin that declares no fan-out, naming the field', async () => {
    const { resolved } = await memoryScenario({ producer, consumer: { mode: 'fanout', connections: 2 } })
    const { fanout: _fanout, ...caps } = resolved.broker.plugin.capabilities
    const plugin = { ...resolved.broker.plugin, capabilities: caps }
    expect(() => checkConsumerMode(resolved.scenario, 'redis-streams', plugin)).toThrow(
      /consumer\.mode: the redis-streams plugin cannot give every subscriber every message/,
    )
  })

  it.each([
    [{ mode: 'fanout', group: 'g' }, 'consumer.group'],
    [{ mode: 'fanout', enabled: false }, 'consumer.mode'],
    [
      { mode: 'fanout', topic: 'x', external: { timestampPath: '$.ts', format: 'epoch-ms' } },
      'consumer.mode',
    ],
    [{ mode: 'everyone' }, 'consumer.mode'],
  ])('%j', async (consumer, path) => {
    const err = await memoryScenario({ producer, consumer }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'CONFIG_INVALID', path })
  })
})
