import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { requireBinary } from '@iotload/sdk/testing'
import { afterAll, describe, it } from 'vitest'
import { resolveScenario } from '../scenario/load-scenario.ts'
import { expectRestartSurvived, runTraced } from './testing/fault-asserts.ts'
import { type ShellBroker, startShellBroker } from './testing/shell-broker.ts'

// A PRIVATE RabbitMQ node (its own node name, ports, Mnesia directory, no plugins: the shared
// node's MQTT plugin would want :1883) crashed and restarted by the scenario's fault command,
// under AMQP publisher confirms and manual acks. The shared node on :5672 is never touched.
const SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server'
const available = requireBinary(SERVER, 'Debian package rabbitmq-server')
let rabbit: ShellBroker | undefined
afterAll(() => rabbit?.dispose())

function startRabbit(): Promise<ShellBroker> {
  const node = `iotlf${process.pid}${Math.floor(Math.random() * 1000)}@localhost`
  return startShellBroker({
    name: 'rabbitmq',
    extraPorts: 1,
    readySeconds: 90,
    start: [
      `RABBITMQ_NODENAME=${node}`,
      'RABBITMQ_NODE_PORT=$PORT RABBITMQ_DIST_PORT=$PORT2',
      'RABBITMQ_MNESIA_BASE=$DIR/mnesia RABBITMQ_LOG_BASE=$DIR/log',
      'RABBITMQ_CONFIG_FILE=$DIR/rabbitmq.conf RABBITMQ_CONFIG_FILES=$DIR/conf.d',
      'RABBITMQ_ENABLED_PLUGINS_FILE=$DIR/enabled_plugins RABBITMQ_CONF_ENV_FILE=$DIR/rabbitmq-env.conf',
      'RABBITMQ_ADVANCED_CONFIG_FILE=$DIR/advanced.config ERL_EPMD_ADDRESS=127.0.0.1',
      `exec ${SERVER}`,
    ].join(' '),
    prepare: (dir, port) => {
      mkdirSync(join(dir, 'conf.d'))
      writeFileSync(join(dir, 'rabbitmq.conf'), `listeners.tcp.default = 127.0.0.1:${port}\n`)
      writeFileSync(join(dir, 'enabled_plugins'), '[].\n')
      writeFileSync(join(dir, 'rabbitmq-env.conf'), '')
    },
  })
}

describe.skipIf(!available)('a RabbitMQ restart caused by the fault timeline', () => {
  it('confirms and manual acks, a durable queue: exact books, recovery measured, the run completes', async () => {
    rabbit = await startRabbit()
    const resolved = await resolveScenario(
      {
        name: 'rabbitmq restart',
        broker: {
          plugin: 'amqp',
          url: `amqp://127.0.0.1:${rabbit.port}`,
          auth: { username: 'guest', password: 'guest' },
          exchange: { name: 'iotload-fault', durable: true },
          // Durable and named: what the broker confirmed survives the crash (persistent messages).
          queue: { name: 'iotload-fault', durable: true, exclusive: false, autoDelete: false },
          confirm: true,
          ack: 'manual',
          heartbeat: '5s',
          connectTimeout: '2s',
          reconnect: { enabled: true, initialDelay: '100ms', maxDelay: '500ms' },
        },
        producer: {
          devices: 10,
          rate: '20/s',
          duration: '25s',
          warmup: '1s',
          topic: 'fault/amqp/{device}',
          qos: 1,
        },
        run: { drain: '6s', generator: { maxEventLoopDelay: '10s', maxLag: '10s' } },
        faults: [{ at: '5s', exec: rabbit.cmd('restart 1'), timeout: '120s' }],
        slo: { loss: '60%' },
      },
      { env: {} },
    )
    const { summary, trace } = await runTraced(resolved)
    expectRestartSurvived(summary, {
      sent: 10 * 20 * 25,
      label: 'rabbitmq confirms+manual acks crash',
      context: `${trace}\n${rabbit.log()}`,
    })
  }, 240_000)
})
