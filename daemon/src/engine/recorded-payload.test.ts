import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { rowFor } from '../scenario/recorded-payload.ts'
import { startRun } from './run.ts'
import { ManualClock } from './testing/manual-clock.ts'
import {
  collectingLogger,
  memoryScenario,
  type PublishCall,
  spyPlugin,
  withPlugin,
} from './testing/memory-scenario.ts'

const dir = mkdtempSync(join(tmpdir(), 'iotload-recorded-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const stops: Array<() => Promise<void>> = []
afterEach(async () => {
  await Promise.all(stops.splice(0).map((s) => s()))
})

function file(name: string, text: string): string {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

async function replay(payload: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const { resolved } = await memoryScenario({
    producer: { devices: 2, rate: '5/s', duration: '1s', topic: 'rec/{device}', payload, ...extra },
    run: { generator: { maxEventLoopDelay: '10s' }, drain: '1s' },
  })
  const calls: PublishCall[] = []
  const clock = new ManualClock()
  stops.push(clock.autoAdvance().stop)
  const summary = await startRun(withPlugin(resolved, spyPlugin(resolved.broker.plugin, calls)), {
    logger: collectingLogger(),
    clock,
  }).result
  const bodies = (dev: number) =>
    calls
      .filter((c) => c.topic === `rec/${dev}`)
      .map((c) => {
        const { iotload, ...body } = JSON.parse(Buffer.from(c.msg.payload).toString()) as Record<
          string,
          unknown
        > & {
          iotload: { seq: number }
        }
        return { seq: iotload.seq, body }
      })
      .sort((a, b) => a.seq - b.seq)
  return { summary, bodies }
}

describe('recorded payloads', () => {
  it('NDJSON, sequential: each device replays the rows in order, templates rendered inside values', async () => {
    const f = file(
      't.ndjson',
      '{"kwh": 1.5, "meter": "m-{device}"}\n{"kwh": 2.5, "meter": "m-{device}"}\n\n{"kwh": 3.5, "ok": true}\n',
    )
    const { summary, bodies } = await replay({ file: f, order: 'sequential' })
    expect(summary.streams.e2e).toMatchObject({ sent: 10, received: 10 })
    expect(bodies(1).map((b) => b.body)).toEqual([
      { kwh: 1.5, meter: 'm-1' },
      { kwh: 2.5, meter: 'm-1' },
      { kwh: 3.5, ok: true },
      { kwh: 1.5, meter: 'm-1' },
      { kwh: 2.5, meter: 'm-1' },
    ])
    expect(bodies(0)[0]?.body).toEqual({ kwh: 1.5, meter: 'm-0' })
  })

  it('CSV rows become objects with typed numbers; random order is a seeded pick, the same every run', async () => {
    const f = file('t.csv', 'temp,unit,dev\n21.5,C,{device}\n22,C,x\n-3,F,y\n')
    const first = await replay({ file: f, order: 'random' })
    const again = await replay({ file: f, order: 'random' })
    const rows = [
      { temp: 21.5, unit: 'C', dev: 0 },
      { temp: 22, unit: 'C', dev: 'x' },
      { temp: -3, unit: 'F', dev: 'y' },
    ]
    const expected = [0, 1, 2, 3, 4].map((seq) => rows[rowFor('random', 3, 1, 0, seq)])
    expect(first.bodies(0).map((b) => b.body)).toEqual(expected)
    expect(again.bodies(0).map((b) => b.body)).toEqual(expected)
    expect(new Set(Array.from({ length: 60 }, (_, seq) => rowFor('random', 3, 1, 7, seq))).size).toBe(3)
  })

  it.each([
    ['a line that is not JSON', 'bad.ndjson', '{"a":1}\nnope\n', /line 2 of .* is not JSON/],
    ['a line that is not an object', 'arr.ndjson', '[1,2]\n', /line 1 of .* is not a JSON object/],
    ['an empty file', 'empty.ndjson', '\n', /holds no messages/],
    ['a CSV row short of cells', 'short.csv', 'a,b\n1\n', /row 1 of .* has 1 cells, the header 2/],
    ['an unknown placeholder in a row', 'ph.ndjson', '{"a":"{nope}"}\n', /producer\.payload \(row 1\)/],
  ])('refuses %s, naming the field', async (_what, name, text, message) => {
    const err = await memoryScenario({
      producer: { devices: 1, rate: '1/s', duration: '1s', payload: { file: file(name, text) } },
    }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'CONFIG_INVALID' })
    expect((err as Error).message).toMatch(message)
  })

  it('refuses a file that does not exist', async () => {
    const err = await memoryScenario({
      producer: { devices: 1, rate: '1/s', duration: '1s', payload: { file: join(dir, 'missing.ndjson') } },
    }).catch((e: unknown) => e)
    expect(err).toMatchObject({ path: 'producer.payload.file' })
  })
})
