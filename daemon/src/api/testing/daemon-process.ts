import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'

const BIN = join(import.meta.dirname, '..', '..', '..', 'bin', 'iotload.js')

/** An `iotload daemon` process a test started. */
export interface DaemonProcess {
  proc: ChildProcess
  url: string
  stderr: () => string
  exit: Promise<number | null>
}

const started: ChildProcess[] = []

/** Spawns `iotload daemon` with `args`; only the given IOTLOAD_* variables reach it. */
export function spawnDaemon(args: string[], env: Record<string, string> = {}) {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('IOTLOAD_')))
  const proc = spawn(process.execPath, [BIN, 'daemon', ...args], {
    env: { ...base, ...env, IOTLOAD_LOG_FORMAT: 'text' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  started.push(proc)
  let err = ''
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => {
    err += d
  })
  proc.stdout!.resume()
  const exit = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)))
  return { proc, stderr: () => err, exit }
}

/** Starts `iotload daemon --port 0 --db <db> …` and waits for its listening line. */
export async function startDaemon(
  db: string,
  extra: string[] = [],
  env: Record<string, string> = {},
): Promise<DaemonProcess> {
  const d = spawnDaemon(['--port', '0', '--db', db, ...extra], env)
  const end = Date.now() + 90_000
  while (Date.now() < end) {
    const m = /listening url=(http:\/\/[^\s]+)/.exec(d.stderr())
    if (m) return { ...d, url: m[1]! }
    if (d.proc.exitCode !== null) throw new Error(`daemon exited ${d.proc.exitCode}: ${d.stderr()}`)
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`daemon did not start: ${d.stderr()}`)
}

/** SIGKILLs every daemon a test started and left running (for afterEach). */
export function killStartedDaemons(): void {
  for (const p of started.splice(0)) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL')
}

/** Polls `probe` until it returns a value; throws naming `what` after `timeoutMs`. */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 60_000,
): Promise<T> {
  const end = Date.now() + timeoutMs
  while (Date.now() < end) {
    const v = await probe()
    if (v !== undefined) return v
    await new Promise((r) => setTimeout(r, 150))
  }
  throw new Error(`timed out waiting for ${what}`)
}

/** POST /v1/runs with a JSON scenario. */
export const postRun = (url: string, scenario: unknown, headers: Record<string, string> = {}) =>
  fetch(`${url}/v1/runs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(scenario),
  })
