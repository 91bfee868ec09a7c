import { randomUUID } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { requireService } from '@iotload/sdk/testing'
import mqtt from 'mqtt'
import { afterAll, describe, expect, it } from 'vitest'
import { createLogger } from '../../log/logger.ts'
import { resolveScenario } from '../../scenario/load-scenario.ts'
import { startRun } from '../run.ts'

const up = await requireService('Mosquitto', '127.0.0.1', 1883)
const dirs: string[] = []
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true })
})

describe.skipIf(!up)('a recorded payload in a sharded run (run.workers: 2)', () => {
  it('every device replays the rows in order, in whichever worker it lives', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'iotload-recorded-'))
    dirs.push(dir)
    const file = join(dir, 'rows.ndjson')
    await writeFile(file, ['{"marker":"A","v":"{int:1:9}"}', '{"marker":"B"}', '{"marker":"C"}'].join('\n'))
    const tag = `rp${randomUUID().slice(0, 8)}`
    // A plain subscriber reads what was published: the bodies themselves, not iotload's figures.
    const client = await mqtt.connectAsync('mqtt://127.0.0.1:1883')
    const bodies: Array<{ dev: number; seq: number; marker: unknown }> = []
    client.on('message', (_topic, buf) => {
      const doc = JSON.parse(buf.toString()) as { iotload: { dev: number; seq: number }; marker: unknown }
      bodies.push({ dev: doc.iotload.dev, seq: doc.iotload.seq, marker: doc.marker })
    })
    await client.subscribeAsync(`${tag}/+`)
    const resolved = await resolveScenario(
      {
        name: 'recorded, sharded',
        broker: { plugin: 'mqtt', url: 'mqtt://127.0.0.1:1883' },
        producer: {
          devices: 4,
          totalRate: '200/s',
          duration: '2s',
          warmup: '0s',
          topic: `${tag}/{device}`,
          payload: { file },
        },
        run: { workers: 2, drain: '2s' },
      },
      { env: {} },
    )
    const summary = await startRun(resolved, { logger: createLogger({ level: 'error' }) }).result
    await new Promise((r) => setTimeout(r, 200))
    await client.endAsync()
    expect(summary.run.status, summary.error).toBe('completed')
    expect(summary.workers).toMatchObject({ producers: 2 })
    expect(bodies).toHaveLength(400)
    expect(new Set(bodies.map((b) => b.dev))).toEqual(new Set([0, 1, 2, 3]))
    // seq n of every device is row n mod 3.
    expect(bodies.filter((b) => b.marker !== 'ABC'[b.seq % 3])).toEqual([])
  }, 60_000)
})
