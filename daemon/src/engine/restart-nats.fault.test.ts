import { existsSync } from 'node:fs'
import { natsServerBin } from '@iotload/sdk/testing'
import { afterAll, describe, expect, it } from 'vitest'
import { resolveScenario } from '../scenario/load-scenario.ts'
import { expectRestartSurvived, runTraced } from './testing/fault-asserts.ts'
import { type ShellBroker, startShellBroker } from './testing/shell-broker.ts'

// A private nats-server (JetStream on, file store in its own directory) crashed and restarted by
// the scenario's fault command, under core NATS and JetStream load. Never the shared :4222.
const bin = natsServerBin()
const installed = bin.startsWith('/') ? existsSync(bin) : true
let server: ShellBroker | undefined
afterAll(() => server?.dispose())

async function nats(): Promise<ShellBroker> {
  server ??= await startShellBroker({
    name: 'nats-server',
    start: `exec ${bin} -a 127.0.0.1 -p "$PORT" -js -sd "$DIR/js"`,
  })
  return server
}

describe.skipIf(!installed)('a nats-server restart caused by the fault timeline', () => {
  it.each([
    { mode: 'core', qos: 0, workers: 1 },
    { mode: 'jetstream', qos: 1, workers: 1 },
    // Sharded: the fault runs on the main thread, the workers post their connection changes and
    // the consumer worker answers the loss windows.
    { mode: 'core', qos: 0, workers: 2 },
  ] as const)(
    'NATS $mode, workers: $workers: exact books, recovery measured, the run completes',
    async ({ mode, qos, workers }) => {
      const s = await nats()
      const resolved = await resolveScenario(
        {
          name: `nats ${mode} restart`,
          broker: {
            plugin: 'nats',
            url: `nats://127.0.0.1:${s.port}`,
            mode,
            reconnect: { waitMs: 200 },
            ...(mode === 'jetstream'
              ? { jetstream: { stream: 'IOTLOAD_FAULT', storage: 'file', ackTimeoutMs: 2000 } }
              : {}),
          },
          producer: {
            devices: 10,
            rate: '20/s',
            duration: '9s',
            warmup: '1s',
            topic: `fault.${mode}.{device}`,
            qos,
          },
          run: { drain: '5s', workers, generator: { maxEventLoopDelay: '10s', maxLag: '10s' } },
          faults: [{ at: '4s', exec: s.cmd('restart 1.5'), timeout: '30s' }],
          slo: { loss: '60%' },
        },
        { env: {} },
      )
      const { summary, trace } = await runTraced(resolved)
      expect(summary.workers?.producers ?? 1).toBe(workers)
      const f = expectRestartSurvived(summary, {
        sent: 10 * 20 * 9,
        label: `nats ${mode} qos${qos} workers ${workers} crash`,
        context: `${trace}\n${s.log()}`,
      })
      // Every device's connection dropped and came back, in whichever worker it lives.
      expect(f.firstDisconnectMs).not.toBeNull()
      expect(f.firstReconnectMs).not.toBeNull()
    },
  )
})
