import { existsSync } from 'node:fs'
import { type PrivateServer, startPrivateServer } from './private-server.ts'

/**
 * The nats-server binary: `NATS_SERVER_BIN`, else Debian's `/usr/sbin/nats-server`, else
 * `nats-server` on PATH.
 */
export function natsServerBin(): string {
  if (process.env.NATS_SERVER_BIN) return process.env.NATS_SERVER_BIN
  return existsSync('/usr/sbin/nats-server') ? '/usr/sbin/nats-server' : 'nats-server'
}

/**
 * Starts a nats-server of the test's own on 127.0.0.1 with extra arguments (`--user`, `--auth`,
 * `--tls`, `-js -sd <dir>`, ...) and waits until it accepts connections.
 *
 * @example
 * const server = await startNatsServer(['--user', 'u', '--pass', 'p'])
 * const url = `nats://127.0.0.1:${server.port}`
 */
export function startNatsServer(
  args: string[] = [],
  options: { port?: number } = {},
): Promise<PrivateServer> {
  return startPrivateServer({
    name: 'nats-server',
    command: natsServerBin(),
    args: (port) => ['-a', '127.0.0.1', '-p', String(port), ...args],
    ...options,
  })
}
