import { type ChildProcess, spawn } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { delimiter, isAbsolute, join } from 'node:path'
import { freePort } from './free-port.ts'
import { isPortOpen } from './require-service.ts'

/** A server process a test started on its own port, so it may crash and restart it at will. */
export interface PrivateServer {
  readonly port: number
  /** The process's last output (stderr and stdout), for assertion messages. */
  output(): string
  /** SIGKILL and wait for the exit: what a crash looks like to clients. */
  kill(): Promise<void>
  /** Starts the process again on the same port (after `kill` or `stop`) and waits until it accepts. */
  restart(): Promise<void>
  /** SIGTERM and wait for the exit. Idempotent. */
  stop(): Promise<void>
}

/** Options for `startPrivateServer`. */
export interface PrivateServerOptions {
  /** Name in error messages, e.g. 'mosquitto'. */
  name: string
  /** Executable: an absolute path or a name on PATH. */
  command: string
  /** Arguments for the chosen port. */
  args: (port: number) => string[]
  /** @default a free port on 127.0.0.1 */
  port?: number
  /** Give up when the port does not accept connections within this long. @default 10000 */
  readyTimeoutMs?: number
}

/** Children still running, killed if the test process exits without stopping them. */
const running = new Set<ChildProcess>()
let exitHook = false

function track(child: ChildProcess): void {
  running.add(child)
  child.once('exit', () => running.delete(child))
  if (exitHook) return
  exitHook = true
  process.once('exit', () => {
    for (const c of running) c.kill('SIGKILL')
  })
}

/** Whether `command` (an absolute path, or a name on PATH) is an executable file. */
export function hasBinary(command: string): boolean {
  const candidates = isAbsolute(command)
    ? [command]
    : (process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, command))
  for (const file of candidates) {
    try {
      accessSync(file, constants.X_OK)
      return true
    } catch {}
  }
  return false
}

/**
 * Checks that a server binary a test launches itself is installed. Locally a missing one skips
 * with a loud line; under `CI=true` it is an error, as with `requireService`.
 */
export function requireBinary(command: string, hint = ''): boolean {
  if (hasBinary(command)) return true
  const line = `${command} is not installed${hint ? ` (${hint})` : ''}`
  if (process.env.CI === 'true') throw new Error(`${line}; CI requires it (see .ci/run)`)
  process.stderr.write(`\n!!! SKIPPING: ${line}. Install it to run these tests. !!!\n\n`)
  return false
}

/**
 * Spawns a server on 127.0.0.1 and waits until its port accepts connections; rejects with the
 * process's output when it exits or stays deaf.
 *
 * @example
 * const redis = await startPrivateServer({ name: 'redis', command: 'redis-server', args: (p) => ['--port', String(p)] })
 * await redis.kill(); await redis.restart(); await redis.stop()
 */
export async function startPrivateServer(options: PrivateServerOptions): Promise<PrivateServer> {
  const port = options.port ?? (await freePort())
  const readyTimeoutMs = options.readyTimeoutMs ?? 10_000
  let out = ''
  let child: ChildProcess | undefined
  let exited: Promise<void> = Promise.resolve()

  const launch = async () => {
    const proc = spawn(options.command, options.args(port), { stdio: ['ignore', 'pipe', 'pipe'] })
    track(proc)
    child = proc
    const keep = (d: Buffer) => {
      out = (out + d.toString()).slice(-4000)
    }
    proc.stdout?.on('data', keep)
    proc.stderr?.on('data', keep)
    let spawnError: Error | undefined
    exited = new Promise<void>((resolve) => {
      proc.once('error', (err) => {
        spawnError = err
        resolve()
      })
      proc.once('exit', () => resolve())
    })
    const deadline = Date.now() + readyTimeoutMs
    while (!(await isPortOpen('127.0.0.1', port, 200))) {
      const gone = spawnError !== undefined || proc.exitCode !== null || proc.signalCode !== null
      if (gone || Date.now() > deadline) {
        proc.kill('SIGKILL')
        const why = spawnError
          ? spawnError.message
          : gone
            ? `exited (${proc.exitCode ?? proc.signalCode})`
            : 'is not listening'
        throw new Error(`${options.name} on port ${port} ${why}: ${out.slice(-500)}`)
      }
      await new Promise((r) => setTimeout(r, 50))
    }
    // Something else may hold the port (freePort races): only our own listener counts.
    if (proc.exitCode !== null || proc.signalCode !== null)
      throw new Error(`${options.name} on port ${port} exited at start: ${out.slice(-500)}`)
  }
  const end = async (signal: NodeJS.Signals) => {
    const proc = child
    child = undefined
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return
    proc.kill(signal)
    await exited
  }

  await launch()
  return {
    port,
    output: () => out,
    kill: () => end('SIGKILL'),
    async restart() {
      await end('SIGTERM')
      await launch()
    },
    stop: () => end('SIGTERM'),
  }
}
