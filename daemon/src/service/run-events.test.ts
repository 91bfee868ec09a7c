import { describe, expect, it } from 'vitest'
import { BoundedQueue, RunEvents } from './run-events.ts'

describe('BoundedQueue', () => {
  it('keeps at most its capacity for a reader that stopped, dropping (and counting) the oldest', async () => {
    const q = new BoundedQueue<number>(3)
    for (let i = 0; i < 1000; i++) q.push(i)
    expect(q.length).toBe(3)
    expect(q.dropped).toBe(997)
    expect([await q.next(), await q.next(), await q.next()]).toEqual([997, 998, 999])
  })

  it('hands an item to a waiting reader at once, and undefined once closed', async () => {
    const q = new BoundedQueue<string>(2)
    const waiting = q.next()
    q.push('a')
    expect(await waiting).toBe('a')
    const last = q.next()
    q.close()
    expect(await last).toBeUndefined()
    q.push('late')
    expect(await q.next()).toBeUndefined()
  })
})

describe('RunEvents', () => {
  it('delivers to each listener of a run, survives a throwing one, and forgets listeners at the end', () => {
    const events = new RunEvents()
    const got: string[] = []
    events.on('r1', () => {
      throw new Error('listener bug')
    })
    const off = events.on('r1', (e) => got.push(e.type))
    events.on('r2', () => got.push('other run'))
    events.emit('r1', { type: 'second', data: {} as never })
    off()
    expect(events.count('r1')).toBe(1)
    events.emit('r1', { type: 'end', data: { status: 'completed' } })
    expect(got).toEqual(['second'])
    expect(events.count('r1')).toBe(0)
    expect(events.count('r2')).toBe(1)
  })
})
