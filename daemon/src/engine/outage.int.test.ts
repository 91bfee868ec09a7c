import { type PrivateMosquitto, requireBinary, sleep, startMosquitto } from '@iotload/sdk/testing'
import { afterAll, describe, expect, it } from 'vitest'
import { createLogger } from '../log/logger.ts'
import { resolveScenario } from '../scenario/load-scenario.ts'
import { startRun } from './run.ts'

// A real broker crash and MQTT's reconnect; run.test.ts covers the engine's side on the memory broker.
const installed = requireBinary('mosquitto', 'Debian package mosquitto')
let broker: PrivateMosquitto | undefined
afterAll(async () => {
  await broker?.stop()
})

describe.skipIf(!installed)('a Mosquitto crash mid-run', () => {
  it('is survived: the run completes, reports the reconnects, and accounts every message as received or lost', async () => {
    // A private Mosquitto this test may kill; never the shared one.
    broker = await startMosquitto()
    const resolved = await resolveScenario(
      {
        name: 'outage',
        broker: { plugin: 'mqtt', url: broker.url, version: '5', reconnectPeriod: '300ms' },
        producer: { devices: 20, rate: '20/s', duration: '6s', topic: 'outage/{device}', qos: 1 },
        run: { drain: '4s' },
      },
      { env: {} },
    )
    const lines: string[] = []
    const handle = startRun(resolved, {
      logger: createLogger({ level: 'warn', write: (l) => lines.push(l) }),
    })
    let killed = false
    const kill = setInterval(async () => {
      if (!killed && handle.live().second >= 2) {
        killed = true
        await broker?.kill()
        await sleep(1500)
        await broker?.restart()
      }
    }, 100)
    const summary = await handle.result
    clearInterval(kill)
    expect(killed).toBe(true)
    expect(summary.run.status).toBe('completed')
    const e2e = summary.streams.e2e!
    expect(e2e.sent).toBe(20 * 20 * 6)
    expect(summary.connections!.disconnects).toBeGreaterThan(0)
    expect(summary.connections!.reconnects).toBeGreaterThan(0)
    // Nothing vanishes from the books: every measured send arrived once or is reported lost.
    expect((e2e.received ?? 0) + (e2e.lost ?? 0)).toBe(e2e.sent)
    expect(e2e.invalid).toBe(0)
  }, 60_000)
})
