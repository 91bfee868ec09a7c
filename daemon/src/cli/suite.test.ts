import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort } from '@iotload/sdk/testing'
import { describe, expect, it } from 'vitest'
import { createLogger } from '../log/logger.ts'
import { localPolicy } from '../scenario/trust-policy.ts'
import { SqliteStore } from '../store/sqlite-store.ts'
import { EXIT } from './exit-codes.ts'
import { suiteCommand } from './suite-command.ts'
import { readSuite, resolveSuite, targetScenario } from './suite-file.ts'

const dir = mkdtempSync(join(tmpdir(), 'iotload-suite-'))
const logger = createLogger({ level: 'error' })
const example = fileURLToPath(new URL('../../../examples/suite-all-brokers.yaml', import.meta.url))

function suiteFile(name: string, targets: unknown[], workload: Record<string, unknown> = {}): string {
  const path = join(dir, `${name}.json`)
  const body = {
    name,
    seed: 7,
    workload: {
      producer: { devices: 3, rate: '20/s', duration: '1s', warmup: '0s', topic: 'suite/{device}' },
      run: { drain: '300ms' },
      ...workload,
    },
    targets,
  }
  writeFileSync(path, JSON.stringify(body))
  return path
}

const memory = (name: string) => ({ name, broker: { plugin: 'memory', bus: `${name}-${Date.now()}` } })

describe('iotload suite', () => {
  it('ships an example that validates: seven targets, one workload, one seed', async () => {
    const suite = await readSuite(example)
    const targets = await resolveSuite(suite, localPolicy(), {})
    expect(targets.map((t) => t.resolved.broker.pluginName)).toEqual([
      'mqtt',
      'amqp',
      'nats',
      'nats',
      'kafka',
      'pulsar',
      'zeromq',
    ])
    const load = targets.map((t) => {
      const p = t.resolved.scenario.producer
      return [p.devices, p.rate, p.duration, p.warmup, t.resolved.scenario.run.seed]
    })
    expect(new Set(load.map((l) => JSON.stringify(l))).size).toBe(1)
  })

  it('validates every target before running any, and names each problem', async () => {
    const file = suiteFile('invalid', [
      memory('good'),
      { name: 'typo', broker: { plugin: 'memory', buss: 'x' } },
      { name: 'load', broker: { plugin: 'memory' }, producer: { devices: 100 } },
      { name: 'nope', broker: { plugin: 'no-such-broker' } },
    ])
    const db = join(dir, 'invalid.db')
    await expect(suiteCommand(file, { db, limits: {}, quiet: true }, logger)).rejects.toThrow(
      /nothing was run[\s\S]*targets\[1\] 'typo'.*buss[\s\S]*targets\[2\] 'load'.*producer\.devices[\s\S]*targets\[3\] 'nope'.*no-such-broker/,
    )
    expect(() => readFileSync(db)).toThrow()
  })

  it('runs the targets in turn with the suite seed; a failed one is reported failed and the rest run', async () => {
    const dead = await freePort()
    const file = suiteFile('mixed', [
      memory('first'),
      {
        name: 'unreachable',
        broker: { plugin: 'mqtt', url: `mqtt://127.0.0.1:${dead}`, connectTimeout: '2s' },
      },
      memory('third'),
    ])
    expect(targetScenario(await readSuite(file), 2)).toMatchObject({ name: 'third', run: { seed: 7 } })
    const db = join(dir, 'mixed.db')
    const out = join(dir, 'mixed.html')
    const code = await suiteCommand(file, { db, out, limits: {}, quiet: true }, logger)
    expect(code).toBe(EXIT.runtime)
    const store = new SqliteStore(db)
    const runs = store.listRuns().reverse()
    store.close()
    expect(runs.map((r) => [r.name, r.status])).toEqual([
      ['first', 'completed'],
      ['unreachable', 'failed'],
      ['third', 'completed'],
    ])
    const html = readFileSync(out, 'utf8')
    for (const r of runs) expect(html).toContain(r.id)
    expect(html).toMatch(/<b class="bad">failed<\/b>/)
  }, 30_000)
})
