import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { freePort, isPortOpen } from '@iotload/sdk/testing'

/** Where Debian's nats-server package puts the binary; override with NATS_SERVER_BIN. */
const NATS_SERVER_BIN = process.env.NATS_SERVER_BIN ?? '/usr/sbin/nats-server'

/** A nats-server child process on a private port, for auth and TLS tests the shared server cannot host. */
export interface NatsServerProcess {
  readonly port: number
  /** Kills the process and waits for it to exit. Idempotent. */
  stop(): Promise<void>
}

/** Whether the nats-server binary is installed. */
export function hasNatsServer(): boolean {
  return existsSync(NATS_SERVER_BIN)
}

/**
 * Starts nats-server on 127.0.0.1 with extra arguments (`--user`, `--auth`, `--tls`, `-js`, ...) and waits
 * until it accepts connections.
 *
 * @example const server = await startNatsServer(['--user', 'u', '--pass', 'p'])
 */
export async function startNatsServer(args: string[]): Promise<NatsServerProcess> {
  const port = await freePort()
  const child: ChildProcess = spawn(NATS_SERVER_BIN, ['-a', '127.0.0.1', '-p', String(port), ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString()
  })
  const exited = new Promise<void>((r) => child.once('exit', () => r()))
  const deadline = Date.now() + 10_000
  while (!(await isPortOpen('127.0.0.1', port, 200))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`nats-server did not start on port ${port}: ${stderr.slice(-500)}`)
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  let stopped = false
  return {
    port,
    async stop() {
      if (stopped) return
      stopped = true
      child.kill('SIGTERM')
      await exited
    },
  }
}

export { freePort }
