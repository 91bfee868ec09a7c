import { Socket } from 'node:net'

/** Whether a TCP port accepts connections within `timeoutMs`. */
export function isPortOpen(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket()
    const done = (open: boolean) => {
      socket.destroy()
      resolve(open)
    }
    socket.setTimeout(timeoutMs)
    socket.once('connect', () => done(true))
    socket.once('timeout', () => done(false))
    socket.once('error', () => done(false))
    socket.connect(port, host)
  })
}

/**
 * Checks that a real server an integration test needs is up. Locally a missing server skips
 * the suite with a loud line; under `CI=true` it is an error, so CI can never pass by skipping.
 *
 * @example
 * const up = await requireService('Mosquitto', '127.0.0.1', 1883)
 * describe.skipIf(!up)('mqtt against Mosquitto', () => { ... })
 */
export async function requireService(name: string, host: string, port: number): Promise<boolean> {
  if (await isPortOpen(host, port, 2000)) return true
  const line = `${name} is not reachable at ${host}:${port}`
  if (process.env.CI === 'true')
    throw new Error(`${line}; CI requires it (see .ci/run and scripts/services/)`)
  process.stderr.write(`\n!!! SKIPPING: ${line}. Start it to run these integration tests. !!!\n\n`)
  return false
}
