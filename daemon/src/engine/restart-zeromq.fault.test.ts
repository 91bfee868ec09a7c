import { writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { afterAll, describe, it } from 'vitest'
import { resolveScenario } from '../scenario/load-scenario.ts'
import { expectRestartSurvived, requirePresent, runTraced } from './testing/fault-asserts.ts'
import { type ShellBroker, startShellBroker } from './testing/shell-broker.ts'

// ZeroMQ has no broker: what restarts is a peer. Producers PUSH to a forwarder process (PULL on
// one port, PUSH on another) the consumer PULLs from; the scenario's fault command crashes and
// restarts that forwarder. ZeroMQ reconnects by itself; what the forwarder held is gone.
let zmqPath: string | undefined
try {
  zmqPath = createRequire(import.meta.url).resolve('zeromq')
} catch {}
requirePresent(zmqPath !== undefined, 'the zeromq package is not installed, for the ZeroMQ peer restart')
let peer: ShellBroker | undefined
afterAll(() => peer?.dispose())

const FORWARDER = `
import { createRequire } from 'node:module'
const zmq = createRequire(import.meta.url)(process.env.ZMQ_PATH)
const pull = new zmq.Pull()
const push = new zmq.Push({ sendHighWaterMark: 100000 })
await pull.bind('tcp://127.0.0.1:' + process.env.PORT)
await push.bind('tcp://127.0.0.1:' + process.env.PORT2)
for await (const frames of pull) await push.send(frames)
`

describe.skipIf(!zmqPath)('a ZeroMQ peer restart caused by the fault timeline', () => {
  it('push/pull through a forwarder: exact books, recovery measured, the run completes', async () => {
    peer = await startShellBroker({
      name: 'zmq-forwarder',
      extraPorts: 1,
      start: `ZMQ_PATH=${zmqPath} exec node "$DIR/forwarder.mjs"`,
      prepare: (dir) => writeFileSync(join(dir, 'forwarder.mjs'), FORWARDER),
    })
    const [inPort, outPort] = [peer.port, peer.extraPorts[0]!]
    const resolved = await resolveScenario(
      {
        name: 'zeromq peer restart',
        broker: {
          plugin: 'zeromq',
          mode: 'pushpull',
          endpoints: {
            producer: { connect: `tcp://127.0.0.1:${inPort}` },
            consumer: { connect: `tcp://127.0.0.1:${outPort}` },
          },
          sendHighWaterMark: 100_000,
        },
        producer: {
          devices: 10,
          rate: '20/s',
          duration: '12s',
          warmup: '1s',
          topic: 'fault/zmq/{device}',
          qos: 0,
        },
        run: { drain: '4s', generator: { maxEventLoopDelay: '10s', maxLag: '10s' } },
        faults: [{ at: '4s', exec: peer.cmd('restart 1'), timeout: '60s' }],
        slo: { loss: '60%' },
      },
      { env: {} },
    )
    const { summary, trace } = await runTraced(resolved)
    expectRestartSurvived(summary, {
      sent: 10 * 20 * 12,
      label: 'zeromq push/pull forwarder crash',
      context: `${trace}\n${peer.log()}`,
    })
  }, 120_000)
})
