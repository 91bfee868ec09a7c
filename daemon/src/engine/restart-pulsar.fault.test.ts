import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { requireBinary } from '@iotload/sdk/testing'
import { afterAll, describe, it } from 'vitest'
import { resolveScenario } from '../scenario/load-scenario.ts'
import { expectRestartSurvived, requirePresent, runTraced } from './testing/fault-asserts.ts'
import { type ShellBroker, startShellBroker } from './testing/shell-broker.ts'

// A PRIVATE Pulsar standalone (the distribution scripts/services/pulsar.sh unpacked; its own web,
// broker and bookie ports and data directory) crashed and restarted by the scenario's fault
// command, under persistent topics over the WebSocket API. The shared :8080/:6650 is never touched.
const home = join(process.env.IOTLOAD_CACHE ?? join(homedir(), '.cache', 'iotload'), 'apache-pulsar-4.0.8')
const available =
  requireBinary('java', 'Debian package default-jre-headless') &&
  requireBinary('curl', 'Debian package curl') &&
  requirePresent(
    existsSync(join(home, 'bin', 'pulsar')),
    `no Pulsar distribution in ${home} for the Pulsar restart (bash scripts/services/pulsar.sh start unpacks it)`,
  )
let pulsar: ShellBroker | undefined
afterAll(() => pulsar?.dispose())

function startPulsar(): Promise<ShellBroker> {
  return startShellBroker({
    name: 'pulsar',
    extraPorts: 2,
    readySeconds: 180,
    ready: `curl -sf --max-time 3 "http://127.0.0.1:$PORT/admin/v2/namespaces/public" | grep -q public/default`,
    start: [
      `cd ${home} &&`,
      'PULSAR_STANDALONE_CONF=$DIR/standalone.conf PULSAR_LOG_DIR=$DIR/logs',
      'PULSAR_MEM="-Xms128m -Xmx384m -XX:MaxDirectMemorySize=256m" PULSAR_GC="-XX:+UseG1GC"',
      'exec bin/pulsar standalone --no-functions-worker -nss',
      '--bookkeeper-dir "$DIR/data/bk" --metadata-dir "$DIR/data/meta" --bookkeeper-port "$PORT3"',
    ].join(' '),
    prepare: (dir, web, [broker]) => {
      const conf = readFileSync(join(home, 'conf', 'standalone.conf'), 'utf8')
        .replace(/^bindAddress=.*$/m, 'bindAddress=127.0.0.1')
        .replace(/^advertisedAddress=.*$/m, 'advertisedAddress=127.0.0.1')
        .replace(/^webServicePort=.*$/m, `webServicePort=${web}`)
        .replace(/^brokerServicePort=.*$/m, `brokerServicePort=${broker}`)
        .replace(/^webSocketServiceEnabled=.*$/m, 'webSocketServiceEnabled=true')
      writeFileSync(join(dir, 'standalone.conf'), `${conf}\nlisteningInterface=lo\nallowLoopback=true\n`)
      execFileSync('mkdir', ['-p', join(dir, 'logs'), join(dir, 'data')])
    },
  })
}

describe.skipIf(!available)('a Pulsar restart caused by the fault timeline', () => {
  it('persistent topic, acks after the handler: exact books, recovery measured, the run completes', async () => {
    pulsar = await startPulsar()
    const resolved = await resolveScenario(
      {
        name: 'pulsar restart',
        broker: {
          plugin: 'pulsar',
          url: `ws://127.0.0.1:${pulsar.port}`,
          persistent: true,
          subscriptionType: 'Exclusive',
          ackMode: 'after-handler',
          sendTimeout: '10s',
        },
        producer: {
          devices: 10,
          rate: '10/s',
          duration: '50s',
          warmup: '2s',
          topic: 'fault-pulsar',
          qos: 1,
          connections: 2,
        },
        // At most: the drain ends when everything arrived. In a full test run on a loaded 2-core
        // machine the private standalone once took 66 s to come back (14 s alone), and 40 s of
        // drain left 4,600 queued messages undelivered.
        run: { drain: '90s', generator: { maxEventLoopDelay: '10s', maxLag: '10s', maxInFlight: 100_000 } },
        faults: [{ at: '6s', exec: pulsar.cmd('restart 1'), timeout: '180s' }],
        slo: { loss: '80%' },
      },
      { env: {} },
    )
    const { summary, trace } = await runTraced(resolved)
    // Here the standalone takes ~30 s to restart and the WebSocket clients longer to come back:
    // recovery may fall after the schedule (reported as not recovered), the drain still delivers.
    // Measured, not prescribed: one run here lost 7 with 6 publish errors (docs/faults.md).
    expectRestartSurvived(summary, {
      sent: 10 * 10 * 50,
      label: 'pulsar persistent crash',
      context: `${trace}\n${pulsar.log()}`,
      recoveryOptional: true,
    })
  }, 300_000)
})
