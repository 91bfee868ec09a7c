import { describe, expect, it } from 'vitest'
import { compilePayloadTemplate } from './payload-template.ts'

const vars = { device: 42, seq: 7, run: 'r1' }

describe('compilePayloadTemplate', () => {
  it('renders an object template as JSON with typed placeholders', () => {
    const render = compilePayloadTemplate(
      {
        device: '{device}',
        id: 'dev-{device}',
        temp: '{float:20:30:1}',
        n: '{int:1:3}',
        state: '{choice:open|closed}',
        nested: [{ s: '{seq}' }],
        on: true,
      },
      'producer.payload',
      1,
    )
    const doc = JSON.parse(render(vars))
    expect(doc.device).toBe(42)
    expect(doc.id).toBe('dev-42')
    expect(doc.temp).toBeGreaterThanOrEqual(20)
    expect(doc.temp).toBeLessThanOrEqual(30)
    expect([1, 2, 3]).toContain(doc.n)
    expect(['open', 'closed']).toContain(doc.state)
    expect(doc.nested[0].s).toBe(7)
    expect(doc.on).toBe(true)
  })

  it('{msgid} names run, device and seq; times come from the clock send stamps use', () => {
    const render = compilePayloadTemplate({ id: '{msgid}', ms: '{nowMs}', iso: '{iso}', us: '{now}' }, 'p', 1)
    const before = Math.floor((performance.timeOrigin + performance.now()) * 1000)
    const doc = JSON.parse(render(vars))
    expect(doc.id).toBe('r1-42-7')
    expect(doc.us).toBeGreaterThanOrEqual(before)
    expect(doc.ms).toBeGreaterThanOrEqual(Math.floor(before / 1000))
    // Rendered in order: ms ≤ iso ≤ us, all on one clock.
    expect(Date.parse(doc.iso)).toBeGreaterThanOrEqual(doc.ms)
    expect(Date.parse(doc.iso)).toBeLessThanOrEqual(Math.floor(doc.us / 1000))
  })

  it('escapes strings that contain quotes', () => {
    const render = compilePayloadTemplate({ msg: 'say "{device}"' }, 'p', 1)
    expect(JSON.parse(render(vars)).msg).toBe('say "42"')
  })

  it('is reproducible for a seed', () => {
    const a = compilePayloadTemplate({ v: '{float:0:1:6}' }, 'p', 9)
    const b = compilePayloadTemplate({ v: '{float:0:1:6}' }, 'p', 9)
    expect(a(vars)).toBe(b(vars))
  })

  it('rejects unknown placeholders naming the field', () => {
    expect(() => compilePayloadTemplate({ a: { b: '{temperature}' } }, 'producer.payload', 1)).toThrow(
      /producer\.payload\.a\.b: unknown placeholder \{temperature\}/,
    )
  })
})
