import { requireService } from '@iotload/sdk/testing'
import { describe, expect, it } from 'vitest'
import { createLogger } from '../log/logger.ts'
import { resolveScenario } from '../scenario/load-scenario.ts'
import { startRun } from './run.ts'

const up = await requireService('RabbitMQ', '127.0.0.1', 5672)

describe.skipIf(!up)('queued at the end of the drain (AMQP queue depth)', () => {
  it('a consumer that cannot follow leaves a backlog: queued > 0 and undelivered ≈ queued, not lost', async () => {
    const topic = `backlog-${process.pid}-${Date.now().toString(36)}/{device}`
    const resolved = await resolveScenario(
      {
        name: 'amqp backlog',
        // prefetch 1 with manual acks: one delivery per ack round trip, slower than the producer.
        broker: { plugin: 'amqp', url: 'amqp://127.0.0.1:5672', confirm: true, ack: 'manual', prefetch: 1 },
        producer: { devices: 10, totalRate: '6000/s', duration: '3s', warmup: '0s', topic, qos: 1 },
        run: { drain: '500ms' },
      },
      { env: {} },
    )

    // A consumer that "cannot follow" must not depend on how busy the machine is: each delivery
    // costs 1 ms of handling (before its manual ack), so it takes at most ~1,000 msg/s of 6,000.
    const slowConsumer = {
      onReceive() {
        const until = performance.now() + 1
        while (performance.now() < until) {
          // busy: the handler is the bottleneck, as a slow application's would be
        }
      },
    }
    const summary = await startRun(resolved, {
      logger: createLogger({ level: 'error' }),
      telemetry: slowConsumer,
    }).result
    const e2e = summary.streams.e2e!
    const info = JSON.stringify({
      sent: e2e.sent,
      received: e2e.received,
      lost: e2e.lost,
      undelivered: e2e.undelivered,
      queued: e2e.queued,
    })
    expect(summary.run.status, info).toBe('completed')
    expect(e2e.queued, info).toBeGreaterThan(0)
    expect(e2e.undelivered, info).toBeGreaterThan(0)
    // The queue depth was read just before unsubscribing: within a prefetch window and the few
    // messages that arrived between the question and the unsubscribe, it is the undelivered tail.
    expect(Math.abs((e2e.undelivered ?? 0) - (e2e.queued ?? 0)), info).toBeLessThanOrEqual(
      Math.max(50, (e2e.queued ?? 0) * 0.05),
    )
    expect(e2e.lost, info).toBe(0)
  }, 60_000)
})
