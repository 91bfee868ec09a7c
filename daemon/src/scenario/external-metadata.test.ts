import { describe, expect, it } from 'vitest'
import { externalMetadataSchema, legStamps } from './external-metadata.ts'

/** The first issue's path and message, or 'ok'. */
function verdict(input: unknown): string {
  const r = externalMetadataSchema.safeParse(input)
  if (r.success) return 'ok'
  const issue = r.error.issues[0]!
  return `${issue.path.join('.')}: ${issue.message}`
}

describe('consumer.external schema', () => {
  it('accepts each of the three ways to find a send time', () => {
    expect(verdict({ envelopePath: '$.original.iotload' })).toBe('ok')
    expect(verdict({ correlationPath: '$.msgId', correlationWindow: 4096 })).toBe('ok')
    expect(verdict({ timestampPath: '$.ts', format: 'epoch-ms', devicePath: '$.d', seqPath: '$.n' })).toBe(
      'ok',
    )
  })

  it('wants exactly one of them', () => {
    expect(verdict({})).toMatch(/^: give exactly one of envelopePath/)
    expect(verdict({ envelopePath: '$.a', correlationPath: '$.b' })).toMatch(
      /^correlationPath: give exactly one/,
    )
  })

  it('seqPath needs devicePath (else every message is filed under one device)', () => {
    expect(verdict({ timestampPath: '$.ts', format: 'epoch-ms', seqPath: '$.n' })).toMatch(
      /^seqPath: needs devicePath/,
    )
  })

  it('timestampPath needs a format; device and seq paths only go with timestampPath', () => {
    expect(verdict({ timestampPath: '$.ts' })).toMatch(/^format: required with timestampPath/)
    expect(verdict({ envelopePath: '$.e', devicePath: '$.d' })).toMatch(
      /^devicePath: only with timestampPath/,
    )
    expect(verdict({ envelopePath: '$.e', correlationWindow: 10 })).toMatch(/^correlationWindow: only with/)
  })

  it('checks every path and format up front, legs included', () => {
    expect(verdict({ timestampPath: 'original.x', format: 'iso8601' })).toMatch(
      /^timestampPath: .*must start with/,
    )
    expect(verdict({ timestampPath: '$.x', format: 'epoch-s' })).toMatch(/^format: /)
    expect(verdict({ timestampPath: '$.x', format: 'iso8601', extra: 1 })).toMatch(/extra/)
    expect(verdict({ envelopePath: '$.e', legs: {} })).toMatch(/^legs: name ipaas-in/)
    expect(verdict({ envelopePath: '$.e', legs: { 'ipaas-in': '$.in' } })).toMatch(
      /^legs.ipaas-in: give \{ path, format \}/,
    )
    expect(
      verdict({ envelopePath: '$.e', legs: { 'ipaas-in': { path: 'in', format: 'epoch-us' } } }),
    ).toMatch(/^legs.ipaas-in.path: /)
    expect(
      verdict({ envelopePath: '$.e', legs: { 'ipaas-mid': { path: '$.m', format: 'epoch-us' } } }),
    ).toMatch(/ipaas-mid/)
  })

  it('a bare leg path takes consumer.external.format', () => {
    const c = externalMetadataSchema.parse({
      timestampPath: '$.ts',
      format: 'epoch-ms',
      legs: { 'ipaas-in': '$.in', 'ipaas-out': { path: '$.out', format: 'iso8601' } },
    })
    expect(legStamps(c)).toEqual({
      'ipaas-in': { path: '$.in', format: 'epoch-ms' },
      'ipaas-out': { path: '$.out', format: 'iso8601' },
    })
  })
})

describe('consumer.external against the producer', () => {
  it('a correlation id must be in the payload; a passed-through envelope must be JSON', async () => {
    const { resolveScenario } = await import('./load-scenario.ts')
    const base = {
      broker: { plugin: 'memory', bus: 'unused' },
      producer: { devices: 1, rate: '1/s', duration: '1s', payload: { v: 1 } },
    }
    await expect(
      resolveScenario(
        { ...base, consumer: { topic: 'x', external: { correlationPath: '$.msgId' } } },
        { env: {} },
      ),
    ).rejects.toThrow(/producer\.payload: .*put a \{msgid\} placeholder/)
    await expect(
      resolveScenario(
        {
          ...base,
          producer: { ...base.producer, envelope: 'binary' },
          consumer: { topic: 'x', external: { envelopePath: '$.o.iotload' } },
        },
        { env: {} },
      ),
    ).rejects.toThrow(/producer\.envelope: .*set producer\.envelope: json/)
  })
})
