import { execFileSync } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { requireBinary } from '@iotload/sdk/testing'
import { afterAll, describe, it } from 'vitest'
import { resolveScenario } from '../scenario/load-scenario.ts'
import { expectRestartSurvived, requirePresent, runTraced } from './testing/fault-asserts.ts'
import { type ShellBroker, startShellBroker } from './testing/shell-broker.ts'

// A PRIVATE single-node KRaft Kafka on spare ports (the jars scripts/services/kafka.sh fetched),
// crashed and restarted by the scenario's fault command. Never the shared :9092.
const jars = join(process.env.IOTLOAD_CACHE ?? join(homedir(), '.cache', 'iotload'), 'kafka-4.1.1', 'jars')
const available =
  requireBinary('java', 'Debian package default-jre-headless') &&
  requirePresent(
    existsSync(join(jars, '.complete')),
    `no Kafka jars in ${jars} for the Kafka restart (bash scripts/services/kafka.sh start fetches them)`,
  )
let kafka: ShellBroker | undefined
afterAll(() => kafka?.dispose())

const java = (heap: string) => `java ${heap} -XX:+UseG1GC -Djava.awt.headless=true -cp "${jars}/*"`

async function startKafka(): Promise<ShellBroker> {
  return startShellBroker({
    name: 'kafka',
    extraPorts: 1,
    readySeconds: 120,
    start: `exec ${java('-Xmx384m -Xms128m')} -Dlog4j2.configurationFile="$DIR/log4j2.properties" kafka.Kafka "$DIR/server.properties"`,
    prepare: (dir, port, [controller]) => {
      writeFileSync(
        join(dir, 'server.properties'),
        [
          'process.roles=broker,controller',
          'node.id=1',
          `controller.quorum.voters=1@127.0.0.1:${controller}`,
          `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controller}`,
          `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
          'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
          'inter.broker.listener.name=PLAINTEXT',
          'controller.listener.names=CONTROLLER',
          `log.dirs=${dir}/data`,
          'num.partitions=1',
          'offsets.topic.replication.factor=1',
          'offsets.topic.num.partitions=1',
          'transaction.state.log.replication.factor=1',
          'transaction.state.log.min.isr=1',
          'share.coordinator.state.topic.replication.factor=1',
          'share.coordinator.state.topic.min.isr=1',
          'group.initial.rebalance.delay.ms=0',
          'num.network.threads=2',
          'num.io.threads=2',
          '',
        ].join('\n'),
      )
      writeFileSync(
        join(dir, 'log4j2.properties'),
        'status = warn\nappender.err.type = Console\nappender.err.name = err\nappender.err.layout.type = PatternLayout\nappender.err.layout.pattern = [%d] %p %m (%c)%n\nrootLogger.level = warn\nrootLogger.appenderRef.err.ref = err\n',
      )
      execFileSync(
        'sh',
        [
          '-c',
          `${java('-Xmx256m')} -Dlog4j2.configurationFile="${dir}/log4j2.properties" kafka.tools.StorageTool format -t "$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\\n')" -c "${dir}/server.properties"`,
        ],
        { stdio: 'pipe', timeout: 120_000 },
      )
    },
  })
}

describe.skipIf(!available)('a Kafka restart caused by the fault timeline', () => {
  it('acks all, a consumer group: exact books, recovery measured, the run completes', async () => {
    kafka = await startKafka()
    const resolved = await resolveScenario(
      {
        name: 'kafka restart',
        broker: {
          plugin: 'kafka',
          url: `kafka://127.0.0.1:${kafka.port}`,
          acks: 'all',
          linger: '0ms',
          retries: 10,
          connectTimeout: '1s',
          // The group's member from before the crash must expire before the consumer is served
          // again: the 30 s default would outlast the schedule (docs/faults.md).
          sessionTimeout: '6s',
          heartbeatInterval: '1s',
        },
        producer: {
          devices: 10,
          rate: '10/s',
          duration: '45s',
          warmup: '2s',
          topic: 'fault.kafka',
          qos: 1,
          connections: 2,
        },
        run: { drain: '10s', generator: { maxEventLoopDelay: '10s', maxLag: '10s', maxInFlight: 100_000 } },
        faults: [{ at: '6s', exec: kafka.cmd('restart 1'), timeout: '120s' }],
        slo: { loss: '60%' },
      },
      { env: {} },
    )
    const { summary, trace } = await runTraced(resolved)
    expectRestartSurvived(summary, {
      sent: 10 * 10 * 45,
      label: 'kafka acks=all crash',
      context: `${trace}\n${kafka.log()}`,
    })
  }, 240_000)
})
