import { spawn } from 'node:child_process'
import { pbkdf2Sync, randomBytes } from 'node:crypto'
import { chmodSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { makeTestCerts, requireBinary, startPrivateServer } from '@iotload/sdk/testing'
import type { BenchFigure, BenchSuite } from '../lib/types.ts'

/** The fleet: 19,000 devices fit under this machine's 20,000 open files per process. */
const DEVICES = Number(process.env.IOTLOAD_BENCH_TLS_DEVICES ?? 19_000)
const WORKER = fileURLToPath(new URL('../lib/tls-fleet-worker.ts', import.meta.url))

/** A Mosquitto `$7$` password line (PBKDF2-SHA512, 101 rounds), made here: mosquitto_passwd per user is too slow for 19,000. */
function passwdLine(user: string, password: string): string {
  const salt = randomBytes(12)
  const hash = pbkdf2Sync(password, salt, 101, 64, 'sha512')
  return `${user}:$7$101$${salt.toString('base64')}$${hash.toString('base64')}`
}

/** Runs one side in its own process (async: the broker's log pipe must keep draining meanwhile). */
function side(
  which: 'raw' | 'iotload' | 'iotload-sharded',
  args: string[],
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WORKER, which, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => {
      out += d
    })
    child.stderr.on('data', (d) => {
      err = (err + d).slice(-4000)
    })
    child.once('exit', (code) => {
      const line = out.trim().split('\n').pop() ?? ''
      try {
        resolve(JSON.parse(line) as Record<string, unknown>)
      } catch {
        reject(new Error(`${which} side failed (${code}): ${err.slice(-1000)}`))
      }
    })
  })
}

/**
 * 19,000 MQTT 5 devices over TLS (server certificate verified), each with its own username and
 * password from an identities file, against a private Mosquitto (max_connections -1): iotload's
 * connect time and RSS growth against raw mqtt.js opening the same connections (100 at a time,
 * each side in a process of its own), then iotload's e2e at 0.1 msg/s per device.
 */
const suite: BenchSuite = {
  name: 'mqtt-tls-fleet',
  async run(): Promise<BenchFigure[]> {
    if (!requireBinary('mosquitto') || !requireBinary('openssl'))
      throw new Error('needs mosquitto and openssl')
    const certs = makeTestCerts({ prefix: 'iotload-bench-tls-' })
    const consumerPassword = randomBytes(8).toString('hex')
    const users = [passwdLine('consumer', consumerPassword)]
    const rows = ['id,username,password']
    for (let d = 0; d < DEVICES; d++) {
      const password = randomBytes(8).toString('hex')
      users.push(passwdLine(`dev-${d}`, password))
      rows.push(`meter-${d},dev-${d},${password}`)
    }
    const passwd = join(certs.dir, 'passwd')
    const csv = join(certs.dir, 'devices.csv')
    writeFileSync(passwd, `${users.join('\n')}\n`)
    writeFileSync(csv, `${rows.join('\n')}\n`)
    const conf = join(certs.dir, 'mosquitto.conf')
    const broker = await startPrivateServer({
      name: 'mosquitto',
      command: 'mosquitto',
      args: (port) => {
        writeFileSync(
          conf,
          [
            'per_listener_settings false',
            'persistence false',
            'max_connections -1',
            'log_type error',
            'log_type warning',
            `listener ${port} 127.0.0.1`,
            `cafile ${certs.caFile}`,
            `certfile ${certs.serverCertFile}`,
            `keyfile ${certs.serverKeyFile}`,
            'allow_anonymous false',
            `password_file ${passwd}`,
            '',
          ].join('\n'),
        )
        // Mosquitto started as root drops to its own user, which must read these files.
        chmodSync(certs.dir, 0o755)
        for (const f of readdirSync(certs.dir)) chmodSync(join(certs.dir, f), 0o644)
        return ['-c', conf]
      },
    })
    try {
      const args = [`mqtts://127.0.0.1:${broker.port}`, certs.caFile, csv, String(DEVICES), consumerPassword]
      const raw = await side('raw', args)
      if (process.env.IOTLOAD_BENCH_DEBUG) console.error(broker.output())
      const iot = await side('iotload', args)
      // By number: auto runs one thread beside a broker on this 2-core machine.
      const sharded = await side('iotload-sharded', args)
      const shardedMs = Number(sharded.connectMs)
      const n = DEVICES.toLocaleString('en-US')
      const rawMs = Number(raw.connectMs)
      const iotMs = Number(iot.connectMs)
      const rawMb = Number(raw.rssMb)
      const iotMb = Number(iot.rssMb)
      const timeRatio = rawMs / iotMs
      const memRatio = rawMb / Math.max(1, iotMb)
      return [
        {
          suite: 'mqtt-tls-fleet',
          metric: `time to connect ${n} TLS devices, per-device username/password (MQTT 5, 100 at a time)`,
          value: iotMs,
          unit: 'ms',
          baseline: { name: 'raw mqtt.js connectAsync, same credentials, 100 at a time', value: rawMs },
          ratio: Number(timeRatio.toFixed(3)),
          target: '≥ 0.9',
          met: timeRatio >= 0.9,
          notes: `ratio = raw time / iotload time (higher is better); failed connects: iotload ${iot.failed}, raw ${raw.failed}`,
        },
        {
          suite: 'mqtt-tls-fleet',
          metric: `time to connect ${n} TLS devices, per-device username/password, workers: 2 (${sharded.workers} producer workers, each its share of the identities)`,
          value: shardedMs,
          unit: 'ms',
          baseline: { name: 'workers: 1, same run', value: iotMs },
          ratio: Number((iotMs / shardedMs).toFixed(3)),
          notes: `ratio = workers: 1 time / workers: 2 time (higher is better); the workers connect their shares in parallel (100 at a time in all); failed connects ${sharded.failed}; status ${sharded.status}${sharded.error ? ` (${sharded.error})` : ''}; sent ${sharded.sent}, received ${sharded.received}, lost+undelivered ${sharded.lost}; e2e p99 ${sharded.p99} µs`,
        },
        {
          suite: 'mqtt-tls-fleet',
          metric: `RSS growth after connecting ${n} TLS devices`,
          value: iotMb,
          unit: 'MiB',
          baseline: { name: 'raw mqtt.js clients (its own process)', value: rawMb },
          ratio: Number(memRatio.toFixed(3)),
          target: '≥ 0.9',
          met: memRatio >= 0.9,
          notes:
            'ratio = raw / iotload (higher is better); iotload includes its run (recorder, schedule, identities)',
        },
        {
          suite: 'mqtt-tls-fleet',
          metric: `e2e p99 at 0.1 msg/s per device (${n} devices, ${Math.round(DEVICES / 10).toLocaleString('en-US')} msg/s, QoS 1)`,
          value: Number(iot.p99),
          unit: 'µs',
          notes: `status ${iot.status}${iot.error ? ` (${iot.error})` : ''}; sent ${iot.sent}, received ${iot.received}, lost+undelivered ${iot.lost}; p50 ${iot.p50} µs, co p99 ${iot.coP99} µs; generator ${JSON.stringify(iot.generator)}`,
        },
      ]
    } finally {
      await broker.stop()
      certs.cleanup()
    }
  },
}

export default suite
