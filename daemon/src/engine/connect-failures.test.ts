import { type BrokerPlugin, ConnectionError } from '@iotload/sdk'
import { afterEach, describe, expect, it } from 'vitest'
import { checkFileLimit, fileLimitCause, procFileLimits } from './fd-limit.ts'
import { allowedConnectFailures } from './producer-fleet.ts'
import { startRun } from './run.ts'
import { ManualClock } from './testing/manual-clock.ts'
import { collectingLogger, memoryScenario, withPlugin } from './testing/memory-scenario.ts'

const stops: Array<() => Promise<void>> = []
afterEach(async () => {
  await Promise.all(stops.splice(0).map((s) => s()))
})

const relaxed = { generator: { maxEventLoopDelay: '10s' }, drain: '1s' }

/** Devices 1 and 3 are refused (bad credentials), one more (device 5) runs out of files. */
function refusing(plugin: BrokerPlugin): BrokerPlugin {
  return {
    ...plugin,
    connect(config, ctx) {
      if (ctx.role === 'producer' && /-(1|3)$/.test(ctx.clientId))
        return Promise.reject(new ConnectionError('auth', 'not authorised'))
      if (ctx.role === 'producer' && ctx.clientId.endsWith('-5'))
        return Promise.reject(
          new ConnectionError('unreachable', 'connect failed', {
            cause: Object.assign(new Error('too many open files'), { code: 'EMFILE' }),
          }),
        )
      return plugin.connect(config, ctx)
    },
  }
}

async function run(maxConnectFailures: number | string) {
  const { resolved } = await memoryScenario({
    producer: { devices: 10, rate: '5/s', duration: '2s', topic: 'cf/{device}', qos: 1, maxConnectFailures },
    run: relaxed,
  })
  const clock = new ManualClock()
  stops.push(clock.autoAdvance().stop)
  return startRun(withPlugin(resolved, refusing(resolved.broker.plugin)), {
    logger: collectingLogger(),
    clock,
  }).result
}

describe('producer.maxConnectFailures', () => {
  it('goes on without the devices that could not connect; they send nothing, so nothing is lost', async () => {
    const summary = await run(3)
    expect(summary.run.status).toBe('completed')
    expect(summary.connections).toMatchObject({
      devices: 10,
      connections: 10,
      failed: 3,
      tolerated: 3,
      failuresByCause: { auth: 2, EMFILE: 1 },
    })
    // 7 devices × 5/s × 2 s.
    expect(summary.streams.e2e).toMatchObject({ sent: 70, received: 70, lost: 0, undelivered: 0 })
    expect(summary.devices?.tracked).toBe(7)
  })

  it('a share of the fleet: 30% of 10 connections tolerates 3', async () => {
    expect((await run('30%')).run.status).toBe('completed')
  })

  it('more failures than allowed fail the run, reported by cause', async () => {
    const summary = await run('20%')
    expect(summary.run.status).toBe('failed')
    expect(summary.run.measured).toBe(false)
    expect(summary.connections).toMatchObject({ failed: 3, failuresByCause: { auth: 2, EMFILE: 1 } })
    expect(summary.connections?.tolerated).toBeUndefined()
  })

  it('counts a share of the connections, rounding down', () => {
    expect(allowedConnectFailures(undefined, 1000)).toBe(0)
    expect(allowedConnectFailures(7, 1000)).toBe(7)
    expect(allowedConnectFailures('0.5%', 19_000)).toBe(95)
    expect(allowedConnectFailures('0.5%', 100)).toBe(0)
  })

  it('refuses a malformed value, naming the field', async () => {
    const err = await memoryScenario({
      producer: { devices: 1, rate: '1/s', duration: '1s', maxConnectFailures: 'some' },
    }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'CONFIG_INVALID', path: 'producer.maxConnectFailures' })
  })
})

describe('the open-file limit', () => {
  it('refuses a fleet larger than ulimit -n before connecting, saying what to do', async () => {
    const { resolved } = await memoryScenario({
      producer: { devices: 2000, rate: '1/s', duration: '1s' },
      consumer: { connections: 4 },
    })
    const source = { limit: () => 1024, open: () => 30 }
    expect(() => checkFileLimit(resolved.scenario, source)).toThrow(
      /producer\.devices: this run needs about 2,098 open files \(2,000 device connections, 4 consumer, 0 bridge, 30 already open, 64 spare\) but this process may open 1,024 \(ulimit -n\)\. Raise the limit .*ulimit -n 3000/,
    )
    expect(() => checkFileLimit(resolved.scenario, { limit: () => 4096, open: () => 30 })).not.toThrow()
    // Where the limit cannot be read (not Linux), nothing is refused.
    expect(() => checkFileLimit(resolved.scenario, { limit: () => undefined, open: () => 0 })).not.toThrow()
  })

  it('counts a shared pool as its size, and every group', async () => {
    const { resolved } = await memoryScenario({
      producers: [
        { name: 'a', devices: 5000, connections: 10, rate: '1/s', duration: '1s' },
        { name: 'b', devices: 900, rate: '1/s', duration: '1s' },
      ],
    })
    expect(() => checkFileLimit(resolved.scenario, { limit: () => 1000, open: () => 0 })).not.toThrow()
    expect(() => checkFileLimit(resolved.scenario, { limit: () => 900, open: () => 0 })).toThrow(
      /^producers: /,
    )
  })

  it('reads this process’s limit on Linux', () => {
    if (process.platform !== 'linux') return
    expect(procFileLimits.limit()).toBeGreaterThan(0)
    expect(procFileLimits.open()).toBeGreaterThan(2)
  })

  it('tells running out of files apart from an unreachable broker', () => {
    const wrapped = new ConnectionError('unreachable', 'x', {
      cause: Object.assign(new Error(), { code: 'EMFILE' }),
    })
    expect(fileLimitCause(wrapped)).toBe('EMFILE')
    expect(fileLimitCause(new ConnectionError('unreachable', 'x'))).toBeUndefined()
  })
})
