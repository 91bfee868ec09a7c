import { describe, expect, it } from 'vitest'
import type { DeviceFigure } from '../engine/device-figures.ts'
import { SqliteStore } from './sqlite-store.ts'

const device = (n: number, lost: number, duplicates: number, p99: number): DeviceFigure => ({
  device: n,
  sent: 100,
  received: 100 - lost,
  lost,
  undelivered: 0,
  duplicates,
  reordered: 0,
  count: 100 - lost,
  p50: p99 / 2,
  p99,
  max: p99 * 2,
})

describe('per-device rows in SQLite', () => {
  it('keeps every device of a run, reads them worst first, and goes with the run', () => {
    const store = new SqliteStore(':memory:')
    store.createRun({ id: 'r', name: 'n', scenario: {}, createdAt: 1 })
    // More devices than one INSERT may bind (SQLite's parameter limit).
    const devices = Array.from({ length: 3000 }, (_, i) => device(i, i % 7, i % 3, 1000 + (i % 11)))
    store.saveDevices('r', devices)
    store.saveDevices('r', devices) // saved again (a summary rewritten): replaced, not doubled
    expect(store.getDevices('r', { limit: 5000 })).toHaveLength(3000)
    expect(store.getDevices('r', { limit: 2 })).toEqual([devices[0], devices[1]])
    expect(store.getDevices('r', { order: 'loss', limit: 1 })[0]).toMatchObject({ device: 6, lost: 6 })
    expect(store.getDevices('r', { order: 'duplicates', limit: 1 })[0]).toMatchObject({
      device: 2,
      duplicates: 2,
    })
    expect(store.getDevices('r', { order: 'p99', limit: 1, offset: 1 })[0]).toMatchObject({
      device: 21,
      p99: 1010,
    })
    expect(store.deleteRun('r')).toBe(true)
    expect(store.getDevices('r')).toEqual([])
    store.close()
  })
})
