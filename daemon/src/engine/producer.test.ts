import { memoryPlugin } from '@iotload/broker-memory'
import { decodeEnvelope, runTag } from '@iotload/sdk'
import { createTestContext, Inbox } from '@iotload/sdk/testing'
import { afterEach, describe, expect, it } from 'vitest'
import { ProducerRole } from './producer.ts'
import { RunRecorder } from './recorder.ts'
import type { RunTelemetry } from './telemetry-hooks.ts'
import { fixedEventLoopDelay } from './testing/fixed-event-loop-delay.ts'
import { ManualClock } from './testing/manual-clock.ts'
import {
  collectingLogger,
  memoryScenario,
  type PublishCall,
  type SpyHooks,
  spyPlugin,
  withPlugin,
} from './testing/memory-scenario.ts'

// The producer on an in-process bus and a clock the test moves: no broker, no waiting.
const RUN = 'r-producer'
const open: Array<{ close(): Promise<void> }> = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((r) => r.close()))
})

async function rig(
  producer: Record<string, unknown>,
  options: { telemetry?: RunTelemetry; hooks?: SpyHooks } = {},
) {
  const { resolved, bus } = await memoryScenario({
    producer: { devices: 4, rate: '10/s', duration: '1s', topic: 'dev/{device}/t', ...producer },
  })
  const calls: PublishCall[] = []
  const clock = new ManualClock()
  const eventLoopDelay = fixedEventLoopDelay()
  const recorder = new RunRecorder(RUN, runTag(RUN), undefined, () => clock.nowUs())
  const role = new ProducerRole(
    withPlugin(resolved, spyPlugin(resolved.broker.plugin, calls, options.hooks)),
    RUN,
    recorder,
    collectingLogger(),
    options.telemetry ?? {},
    { clock, eventLoopDelay },
  )
  open.push(role)
  // A consumer of its own on the same bus sees what the fleet published.
  const listener = await memoryPlugin.connect(
    memoryPlugin.configSchema.parse({ bus: bus.name }),
    createTestContext(),
  )
  const inbox = new Inbox()
  await listener.subscribe('#', inbox.push)
  open.push(listener)
  return { role, recorder, clock, calls, inbox, bus, eventLoopDelay }
}

describe('ProducerRole', () => {
  it('one connection per device; every send carries its device, seq, send and intended time', async () => {
    const { role, recorder, clock, calls, inbox, bus } = await rig({ qos: 1 })
    await role.connect()
    expect(bus.connections).toBe(4 + 1)
    expect(role.connectStats).toMatchObject({ devices: 4, connections: 4, failed: 0 })
    const start = clock.nowUs() + 10_000
    const done = role.run(start)
    await clock.advanceAsync(1100)
    await done
    await role.settle(1000)
    expect(calls).toHaveLength(40)
    expect(new Set(calls.map((c) => c.clientId)).size).toBe(4)
    expect(inbox.length).toBe(40)
    for (const m of inbox.messages) {
      const d = decodeEnvelope(m.payload)
      if (!d.ok) throw new Error(`undecodable: ${d.reason}`)
      expect(m.topic).toBe(`dev/${d.meta.dev}/t`)
      expect(d.meta.run).toBe(RUN)
      // On time to the µs when nothing stalls: the send stamp is the intended one.
      expect(d.meta.t - d.meta.ti).toBeGreaterThanOrEqual(0)
      expect(d.meta.t - d.meta.ti).toBeLessThanOrEqual(2)
    }
    const dev2 = inbox.messages.map((m) => decodeEnvelope(m.payload)).filter((d) => d.ok && d.meta.dev === 2)
    expect(dev2.map((d) => (d.ok ? d.meta.seq : -1))).toEqual(Array.from({ length: 10 }, (_, i) => i))
    expect(calls.every((c) => c.msg.qos === 1 && c.msg.key === c.topic.split('/')[1])).toBe(true)
    // QoS 1 on a plugin with publishAck: one ack latency per measured send.
    recorder.rollSecond(0, false)
    expect(recorder.total.sent).toBe(40)
    expect(recorder.streams.get('publish-ack')!.cumulative().raw.count).toBe(40)
    expect(role.health.report(role.targetRate, 40).limited).toBe(false)
  })

  it('warm-up sends are flagged and counted apart from measured ones', async () => {
    const { role, recorder, clock, inbox, eventLoopDelay } = await rig({ devices: 2, warmup: '500ms' })
    await role.connect()
    const done = role.run(clock.nowUs())
    await clock.advanceAsync(400)
    expect(eventLoopDelay.calls).toEqual(['enable'])
    await clock.advanceAsync(1200)
    await done
    // Event-loop delay seen during warm-up is forgotten when it ends.
    expect(eventLoopDelay.calls).toEqual(['enable', 'reset'])
    recorder.rollSecond(0, false)
    expect(recorder.total.sentWarmup).toBe(10)
    expect(recorder.total.sent).toBe(20)
    const flags = inbox.messages.map((m) => {
      const d = decodeEnvelope(m.payload)
      return d.ok && d.meta.warmup === true
    })
    expect(flags.filter(Boolean)).toHaveLength(10)
    expect(role.measureStartUs).toBeGreaterThan(0)
  })

  it('a pool of connections serves every device', async () => {
    const { role, clock, calls, bus } = await rig({ devices: 6, connections: 2 })
    await role.connect()
    expect(bus.connections).toBe(2 + 1)
    const done = role.run(clock.nowUs())
    await clock.advanceAsync(1100)
    await done
    expect(new Set(calls.map((c) => c.clientId)).size).toBe(2)
    expect(new Set(calls.map((c) => c.topic)).size).toBe(6)
  })

  it('a stall shows as send lag against the intended times; the late sends all go out', async () => {
    const { role, clock, calls } = await rig({ devices: 1, rate: '100/s', duration: '1s' })
    await role.connect()
    const done = role.run(clock.nowUs())
    await clock.advanceAsync(100)
    clock.block(200) // the event loop was busy: 20 sends are due and none could go
    await clock.advanceAsync(1000)
    await done
    expect(calls).toHaveLength(100)
    const lag = role.health.lag.stats()
    expect(lag.max).toBeGreaterThanOrEqual(190_000)
    expect(role.health.report(role.targetRate, 100).reasons[0]).toMatch(/^send lag p99/)
  })

  it('publish errors are counted, and the schedule goes on', async () => {
    const { role, recorder, clock, bus, calls } = await rig({ devices: 2, qos: 1 })
    await role.connect()
    const done = role.run(clock.nowUs())
    await clock.advanceAsync(300)
    bus.disconnect()
    await clock.advanceAsync(300)
    bus.reconnect()
    await clock.advanceAsync(500)
    await done
    await role.settle(1000)
    recorder.rollSecond(0, false)
    expect(calls).toHaveLength(20)
    expect(recorder.total.publishErrors).toBeGreaterThanOrEqual(5)
    expect(recorder.total.publishErrors).toBeLessThanOrEqual(7)
    expect(recorder.total.disconnects).toBe(2)
    expect(recorder.total.reconnects).toBe(2)
    expect(role.health.inFlight).toBe(0)
  })

  it('a device that cannot connect fails connect() with the count, after the others connected', async () => {
    const { role, bus } = await rig(
      { devices: 5, clientId: 'dev-{device}' },
      {
        hooks: {
          onConnect: (clientId) => {
            if (clientId === 'dev-3') throw Object.assign(new Error('refused'), { name: 'ConnectionError' })
          },
        },
      },
    )
    const err = await role.connect().catch((e: unknown) => e)
    expect(err).toMatchObject({ message: 'refused', failedConnections: 1, totalConnections: 5 })
    expect(role.connectStats).toMatchObject({ connections: 5, failed: 1 })
    await role.close()
    expect(bus.connections).toBe(1) // only the test's own listener is left
  })

  it('a plugin that throws instead of rejecting, or a throwing hook: counted or ignored, the run goes on', async () => {
    const { role, recorder, clock, calls, inbox } = await rig(
      { devices: 1, rate: '10/s' },
      {
        hooks: {
          onPublish: ({ msg }) => {
            if (decodeEnvelope(msg.payload).ok && calls.length === 3) throw new Error('plugin bug')
          },
        },
        telemetry: {
          onSend: ({ seq }) => {
            if (seq === 5) throw new Error('telemetry must never break a send')
            return undefined
          },
        },
      },
    )
    await role.connect()
    const done = role.run(clock.nowUs())
    await clock.advanceAsync(1100)
    await done
    await role.settle(100)
    recorder.rollSecond(0, false)
    expect(calls).toHaveLength(10)
    expect(recorder.total.publishErrors).toBe(1)
    expect(inbox.length).toBe(9)
  })

  it('telemetry headers ride along, and the traceparent goes into the JSON envelope too', async () => {
    const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
    const settled: boolean[] = []
    const { role, clock, calls, inbox } = await rig(
      { devices: 1, qos: 1 },
      {
        telemetry: {
          onSend: ({ seq }) => (seq === 0 ? { traceparent: tp } : undefined),
          onPublishSettled: ({ ok }) => settled.push(ok),
        },
      },
    )
    await role.connect()
    const done = role.run(clock.nowUs())
    await clock.advanceAsync(1100)
    await done
    await role.settle(100)
    expect(calls[0]!.msg.headers).toEqual({ traceparent: tp })
    expect(calls[1]!.msg.headers).toBeUndefined()
    expect(inbox.messages[0]!.headers).toEqual({ traceparent: tp })
    const d = decodeEnvelope(inbox.messages[0]!.payload)
    expect(d.ok && d.meta.tp).toBe(tp)
    expect(settled).toEqual(Array(10).fill(true))
  })

  it('binary envelope with a fixed body, and a fleet-wide totalRate', async () => {
    const { role, clock, inbox } = await rig({
      devices: 4,
      rate: undefined,
      totalRate: '20/s',
      envelope: 'binary',
      payloadSize: 100,
    })
    expect(role.targetRate).toBe(20)
    await role.connect()
    const done = role.run(clock.nowUs())
    await clock.advanceAsync(1100)
    await done
    expect(inbox.length).toBe(20)
    const d = decodeEnvelope(inbox.messages[0]!.payload)
    expect(d.ok && d.meta.tag).toBe(runTag(RUN))
    expect(d.ok && d.meta.run).toBeUndefined()
  })
})
