import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { clearPreciseTimeout, setPreciseTimeout } from './precise-timer.ts'

const exec = promisify(execFile)
const mono = () => Number(process.hrtime.bigint() / 1000n)

/** Resolves with the µs between setting a timer of `us` and its firing. */
function elapsedOf(us: number): Promise<number> {
  const t0 = mono()
  return new Promise((resolve) => setPreciseTimeout(() => resolve(mono() - t0), us))
}

describe('setPreciseTimeout', () => {
  it('fires sub-millisecond and multi-millisecond timers never early', async () => {
    for (const us of [0, 300, 900, 2500, 6000]) {
      const took = await elapsedOf(us)
      expect(took).toBeGreaterThanOrEqual(us)
      // Generous: a shared CI machine may hold the thread; a 1 ms Node timer would not pass the
      // sub-millisecond ones on a quiet machine, but this bound is about "fires", not precision.
      expect(took).toBeLessThan(us + 250_000)
    }
  })

  it('fires timers in due order, and a cleared one not at all', async () => {
    const order: string[] = []
    const done = new Promise<void>((resolve) => setPreciseTimeout(() => resolve(), 3000))
    setPreciseTimeout(() => order.push('c'), 1500)
    setPreciseTimeout(() => order.push('a'), 200)
    const b = setPreciseTimeout(() => order.push('b'), 800)
    setPreciseTimeout(() => order.push('a2'), 200)
    clearPreciseTimeout(b)
    await done
    expect(order).toEqual(['a', 'a2', 'c'])
  })

  it('waits without spinning: little CPU while a timer is pending', async () => {
    const cpu0 = process.cpuUsage()
    const t0 = mono()
    // 300 consecutive sub-millisecond waits (≈ 0.3–0.5 s): a turn-by-turn wait would keep a core busy.
    for (let i = 0; i < 300; i++) await elapsedOf(900)
    const wallUs = mono() - t0
    const c = process.cpuUsage(cpu0)
    expect((c.user + c.system) / wallUs).toBeLessThan(0.5)
  })

  it('keeps the process alive while a timer is pending, and lets it exit after', async () => {
    const url = new URL('./precise-timer.ts', import.meta.url).href
    const { stdout } = await exec(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        `import(${JSON.stringify(url)}).then((m) => m.setPreciseTimeout(() => console.log('fired'), 500))`,
      ],
      { cwd: fileURLToPath(new URL('../../..', import.meta.url)), timeout: 20_000 },
    )
    expect(stdout.trim()).toBe('fired')
  })
})
