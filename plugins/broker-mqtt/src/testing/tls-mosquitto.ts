import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { chmodSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isPortOpen } from '@iotload/sdk/testing'

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

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' })
}

function makeCa(dir: string, name: string): void {
  openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.pem`,
  ])
}

function makeLeaf(dir: string, ca: string, name: string, san?: string): void {
  openssl(dir, [
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    `/CN=${name}`,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
  ])
  const ext = join(dir, `${name}.ext`)
  writeFileSync(ext, san ? `subjectAltName=${san}\n` : 'basicConstraints=CA:FALSE\n')
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${ca}.pem`,
    '-CAkey',
    `${ca}.key`,
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    ext,
    '-out',
    `${name}.pem`,
  ])
}

async function freePort(): Promise<number> {
  const srv = createServer()
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()))
  const addr = srv.address()
  await new Promise<void>((r) => srv.close(() => r()))
  return typeof addr === 'object' && addr ? addr.port : 0
}

/**
 * Starts a Mosquitto with `require_certificate` and a password file on a spare loopback port.
 * Everything is generated with openssl in a temp dir and removed by `stop()`.
 */
export async function startTlsMosquitto(): Promise<TlsMosquitto> {
  const dir = mkdtempSync(join(tmpdir(), 'iotload-mqtt-tls-'))
  makeCa(dir, 'ca')
  makeCa(dir, 'rogue-ca')
  makeLeaf(dir, 'ca', 'server', 'IP:127.0.0.1,DNS:localhost')
  makeLeaf(dir, 'ca', 'client')
  makeLeaf(dir, 'rogue-ca', 'rogue')
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
      `cafile ${join(dir, 'ca.pem')}`,
      `certfile ${join(dir, 'server.pem')}`,
      `keyfile ${join(dir, 'server.key')}`,
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
    caPath: join(dir, 'ca.pem'),
    clientCertPath: join(dir, 'client.pem'),
    clientKeyPath: join(dir, 'client.key'),
    rogueCertPath: join(dir, 'rogue.pem'),
    rogueKeyPath: join(dir, 'rogue.key'),
    rogueCaPath: join(dir, 'rogue-ca.pem'),
    username,
    password,
    async stop() {
      proc.kill('SIGTERM')
      await new Promise((r) => setTimeout(r, 100))
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
