import { execFileSync } from 'node:child_process'
import { chmodSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type PrivateServer, startPrivateServer } from './private-server.ts'
import type { TestCerts } from './test-certs.ts'

/** Options for `startMosquitto`. */
export interface MosquittoOptions {
  /** A TLS listener with the kit's certificates instead of plain MQTT. */
  tls?: {
    certs: TestCerts
    /** Clients must present a certificate signed by `certs.caFile`. @default false */
    requireCertificate?: boolean
  }
  /** username → password; when given, anonymous clients are refused. */
  users?: Record<string, string>
  /** More `mosquitto.conf` lines. */
  config?: string[]
  /** @default a free port */
  port?: number
}

/** A private Mosquitto: `PrivateServer` plus its URL. */
export interface PrivateMosquitto extends PrivateServer {
  /** `mqtt://127.0.0.1:<port>`, or `mqtts://` with TLS. */
  readonly url: string
}

/**
 * Starts a Mosquitto of the test's own on 127.0.0.1 (binary `mosquitto` on PATH; see
 * `requireBinary`), which the test may kill and restart. `stop()` also removes its config dir.
 *
 * @example
 * const broker = await startMosquitto()
 * await broker.kill()    // an outage
 * await broker.restart() // same port
 */
export async function startMosquitto(options: MosquittoOptions = {}): Promise<PrivateMosquitto> {
  const dir = mkdtempSync(join(tmpdir(), 'iotload-mosquitto-'))
  const lines = ['per_listener_settings false', 'persistence false', 'log_dest stderr']
  const conf = join(dir, 'mosquitto.conf')
  const writeConfig = (port: number) => {
    const out = [...lines, `listener ${port} 127.0.0.1`]
    if (options.tls) {
      const { certs, requireCertificate } = options.tls
      out.push(`cafile ${certs.caFile}`, `certfile ${certs.serverCertFile}`, `keyfile ${certs.serverKeyFile}`)
      if (requireCertificate) out.push('require_certificate true')
    }
    if (options.users) {
      const passwd = join(dir, 'passwd')
      writeFileSync(passwd, '')
      for (const [user, password] of Object.entries(options.users))
        execFileSync('mosquitto_passwd', ['-b', passwd, user, password], { stdio: 'pipe' })
      out.push('allow_anonymous false', `password_file ${passwd}`)
    } else out.push('allow_anonymous true')
    out.push(...(options.config ?? []), '')
    writeFileSync(conf, out.join('\n'))
    // Mosquitto started as root drops to its own user, which must be able to read these files.
    chmodSync(dir, 0o755)
    for (const f of readdirSync(dir)) chmodSync(join(dir, f), 0o644)
    if (options.tls) {
      chmodSync(options.tls.certs.dir, 0o755)
      for (const f of readdirSync(options.tls.certs.dir)) chmodSync(join(options.tls.certs.dir, f), 0o644)
    }
    return ['-c', conf]
  }
  let server: PrivateServer
  try {
    server = await startPrivateServer({
      name: 'mosquitto',
      command: 'mosquitto',
      args: writeConfig,
      ...(options.port !== undefined ? { port: options.port } : {}),
    })
  } catch (err) {
    rmSync(dir, { recursive: true, force: true })
    throw err
  }
  return {
    port: server.port,
    url: `${options.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${server.port}`,
    output: server.output,
    kill: server.kill,
    restart: server.restart,
    async stop() {
      await server.stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
