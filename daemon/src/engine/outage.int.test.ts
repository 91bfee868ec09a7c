import { type ChildProcess, spawn } from 'node:child_process'
import { freePort, isPortOpen } from '@iotload/sdk/testing'
import { afterAll, describe, expect, it } from 'vitest'
import { createLogger } from '../log/logger.ts'
import { resolveScenario } from '../scenario/load-scenario.ts'
import { startRun } from './run.ts'

/** A private Mosquitto this test may kill: `-p` without a config listens on loopback only. */
async function startMosquitto(port: number): Promise<ChildProcess> {
  const proc = spawn('mosquitto', ['-p', String(port)], { stdio: 'ignore' })
  for (let i = 0; i < 50 && !(await isPortOpen('127.0.0.1', port, 200)); i++)
    await new Promise((r) => setTimeout(r, 100))
  return proc
}

let broker: ChildProcess | undefined
afterAll(() => {
  broker?.kill('SIGKILL')
})

describe('a broker outage mid-run', () => {
  it('is survived: the run completes, reports the reconnects, and accounts every message as received or lost', async () => {
    const port = await freePort()
    broker = await startMosquitto(port)
    const resolved = await resolveScenario(
      {
        name: 'outage',
        broker: { plugin: 'mqtt', url: `mqtt://127.0.0.1:${port}`, version: '5', reconnectPeriod: '300ms' },
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
        broker?.kill('SIGKILL')
        await new Promise((r) => setTimeout(r, 1500))
        broker = await startMosquitto(port)
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
