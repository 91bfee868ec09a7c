import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import type { BrokerConnection, BrokerPlugin } from '@iotload/sdk'
import { createTestContext } from '@iotload/sdk/testing'

/** scripts/services/camel.sh: fetches Camel from Maven Central and runs the seed's route. */
export const CAMEL_SH = fileURLToPath(new URL('../../../../scripts/services/camel.sh', import.meta.url))

/** Whether a JDK (java and javac) is on the PATH. */
export function jdkAvailable(): boolean {
  const ok = (cmd: string) => spawnSync(cmd, ['-version'], { stdio: 'ignore' }).status === 0
  return ok('java') && ok('javac')
}

/** Downloads the jars and compiles the route, once per machine (a no-op when cached). */
export async function fetchCamel(): Promise<void> {
  await promisify(execFile)('bash', [CAMEL_SH, 'fetch'], { timeout: 600_000 })
}

/** Settings of one route JVM (CAMEL_* variables of camel.sh). */
export interface CamelRouteOptions {
  from: string
  to: string
  /** What the action keeps of the reading: `envelope`, `id` or `timestamp`. */
  keep: 'envelope' | 'id' | 'timestamp'
  partitions?: number
  consumers?: number
  /** `<device>:<modulus>:<remainder>`: readings the route drops on purpose. */
  drop?: string
}

/** A route JVM started by a test; `stop` ends it (by its pid) and returns its output. */
export interface CamelRoute {
  readonly process: ChildProcess
  output(): string
  stop(): Promise<string>
}

/** Starts `camel.sh run` (the JVM replaces the shell, so the child's pid is the JVM's). */
export function startCamelRoute(o: CamelRouteOptions): CamelRoute {
  const child = spawn('bash', [CAMEL_SH, 'run'], {
    env: {
      ...process.env,
      CAMEL_FROM: o.from,
      CAMEL_TO: o.to,
      CAMEL_GROUP: `${o.from}-camel`,
      CAMEL_KEEP: o.keep,
      CAMEL_PARTITIONS: String(o.partitions ?? 4),
      CAMEL_CONSUMERS: String(o.consumers ?? 2),
      CAMEL_DROP: o.drop ?? '',
      CAMEL_HEAP: '-Xmx192m -Xms32m',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  const keep = (b: Buffer) => {
    out = (out + b.toString()).slice(-20_000)
  }
  child.stdout!.on('data', keep)
  child.stderr!.on('data', keep)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  return {
    process: child,
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
        await exited
        clearTimeout(timer)
      }
      return out
    },
  }
}

/**
 * Waits until the route carries messages: publishes a probe reading to `from` every 500 ms until
 * its action comes out of `to` (the route's consumers have their partitions then), then waits a
 * moment so that no probe is left in flight when the run's consumer subscribes.
 */
export async function awaitCamelRoute(
  plugin: BrokerPlugin,
  config: unknown,
  route: CamelRoute,
  from: string,
  to: string,
  timeoutMs = 90_000,
): Promise<void> {
  const conn: BrokerConnection = await plugin.connect(plugin.configSchema.parse(config), createTestContext())
  try {
    const id = `probe-${Date.now()}`
    let seen = false
    const sub = await conn.subscribe(to, (m) => {
      if (Buffer.from(m.payload).toString().includes(id)) seen = true
    })
    const until = Date.now() + timeoutMs
    while (!seen) {
      if (Date.now() > until)
        throw new Error(`the Camel route carried no probe in ${timeoutMs} ms:\n${route.output()}`)
      if (route.process.exitCode !== null) throw new Error(`the Camel route exited:\n${route.output()}`)
      await conn.publish(from, {
        payload: Buffer.from(JSON.stringify({ probe: id, temperature: 0 })),
        qos: 1,
      })
      await new Promise((r) => setTimeout(r, 500))
    }
    await sub.unsubscribe()
    await new Promise((r) => setTimeout(r, 1500))
  } finally {
    await conn.close()
  }
}
