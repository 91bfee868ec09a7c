import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bridgeConfigSchema } from '@iotload/sdk'
import { describe, expect, it } from 'vitest'
import { compileTransform } from './transform.ts'

const ctx = { topic: 'devices/7/telemetry', outTopic: 'actions/7' }

describe('compileTransform', () => {
  it('passthrough compiles to nothing (payload bytes forwarded as they came)', async () => {
    expect(await compileTransform('passthrough')).toBeUndefined()
  })
  it('map builds an action from literals and JSON paths, leaving out what is missing', async () => {
    const fn = await compileTransform({
      map: {
        valve: 'close',
        device: '$.device',
        reading: { celsius: '$.sensor.characteristics[0].currentValue' },
        lastUpdated: '$.lastUpdated',
        note: '$$literal',
        missing: '$.nope',
        list: ['$.device', 1],
      },
    })
    const out = await fn!(
      { device: 7, lastUpdated: 'T', sensor: { characteristics: [{ currentValue: '30.2' }] } },
      ctx,
    )
    expect(out).toEqual({
      valve: 'close',
      device: 7,
      reading: { celsius: '30.2' },
      lastUpdated: 'T',
      note: '$literal',
      list: [7, 1],
    })
  })
  it('loads a user module by path and calls the named export', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iotload-transform-'))
    const file = join(dir, 'valve.mjs')
    writeFileSync(
      file,
      'export const decide = (msg, ctx) => (msg.valve === "open" ? { valve: "close", device: msg.device, to: ctx.outTopic } : null)\n',
    )
    const fn = await compileTransform({ module: file, export: 'decide' })
    expect(await fn!({ valve: 'open', device: 3 }, ctx)).toEqual({
      valve: 'close',
      device: 3,
      to: 'actions/7',
    })
    expect(await fn!({ valve: 'closed', device: 3 }, ctx)).toBeNull()
    await expect(compileTransform({ module: file, export: 'nope' })).rejects.toThrow(
      /no function export 'nope'/,
    )
    await expect(compileTransform({ module: join(dir, 'absent.mjs'), export: 'default' })).rejects.toThrow(
      /cannot load/,
    )
  })
  it('the config accepts the three forms and rejects unknown keys', () => {
    const base = { from: 'a/{device}', to: 'b/{device}' }
    expect(bridgeConfigSchema.parse(base).transform).toBe('passthrough')
    expect(bridgeConfigSchema.parse({ ...base, transform: { module: './t.ts' } }).transform).toEqual({
      module: './t.ts',
      export: 'default',
    })
    expect(bridgeConfigSchema.safeParse({ ...base, transform: { map: {}, extra: 1 } }).success).toBe(false)
    expect(bridgeConfigSchema.safeParse({ ...base, colour: 'red' }).success).toBe(false)
  })
})
