import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { chmodSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { freePort, isPortOpen, makeTestCerts } from '@iotload/sdk/testing'

/** Certificates and a private Mosquitto with a TLS listener, for the TLS and auth tests. */
export interface TlsMosquitto {
  port: number
  dir: string
  /** CA that signed the server and the good client certificate. */
  caPath: string
  clientCertPath: string
  clientKeyPath: string
  /** A client certificate signed by a CA the broker does not trust. */
  rogueCertPath: string
  rogueKeyPath: string
  rogueCaPath: string
  username: string
  password: string
  stop(): Promise<void>
}

/**
 * Starts a Mosquitto with `require_certificate` and a password file on a spare loopback port.
 * Everything is generated with openssl in a temp dir and removed by `stop()`.
 */
export async function startTlsMosquitto(): Promise<TlsMosquitto> {
  const certs = makeTestCerts({ prefix: 'iotload-mqtt-tls-', clients: { client: 'ca', rogue: 'other-ca' } })
  const dir = certs.dir
  const username = 'device-1'
  const password = `pw-${Math.random().toString(36).slice(2)}`
  writeFileSync(join(dir, 'passwd'), '')
  execFileSync('mosquitto_passwd', ['-b', join(dir, 'passwd'), username, password], { stdio: 'pipe' })
  const port = await freePort()
  writeFileSync(
    join(dir, 'mosquitto.conf'),
    [
      'per_listener_settings false',
      'persistence false',
      'log_dest stderr',
      `listener ${port} 127.0.0.1`,
      `cafile ${certs.caFile}`,
      `certfile ${certs.serverCertFile}`,
      `keyfile ${certs.serverKeyFile}`,
      'require_certificate true',
      'allow_anonymous false',
      `password_file ${join(dir, 'passwd')}`,
      '',
    ].join('\n'),
  )
  // Mosquitto started as root drops to its own user, which must be able to read these files.
  chmodSync(dir, 0o755)
  for (const f of readdirSync(dir)) chmodSync(join(dir, f), 0o644)
  const proc: ChildProcess = spawn('mosquitto', ['-c', join(dir, 'mosquitto.conf')], { stdio: 'ignore' })
  for (let i = 0; i < 50 && !(await isPortOpen('127.0.0.1', port, 200)); i++) {
    await new Promise((r) => setTimeout(r, 100))
  }
  return {
    port,
    dir,
    caPath: certs.caFile,
    clientCertPath: certs.clients.client!.certFile,
    clientKeyPath: certs.clients.client!.keyFile,
    rogueCertPath: certs.clients.rogue!.certFile,
    rogueKeyPath: certs.clients.rogue!.keyFile,
    rogueCaPath: certs.otherCaFile,
    username,
    password,
    async stop() {
      proc.kill('SIGTERM')
      await new Promise((r) => setTimeout(r, 100))
      certs.cleanup()
    },
  }
}
