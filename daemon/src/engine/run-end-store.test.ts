import { describe, expect, it } from 'vitest'
import { createLogger } from '../log/logger.ts'
import type { ResultWriter } from '../store/result-store.ts'
import { storeRunEnd } from './run-end-store.ts'
import type { RunSummary } from './summary.ts'

function writer(fail?: string) {
  const calls: string[] = []
  const w: ResultWriter = {
    createRun: () => calls.push('createRun'),
    appendSecond: () => calls.push('appendSecond'),
    saveSummary: () => {
      calls.push('saveSummary')
      if (fail === 'saveSummary') throw new Error('disk full')
    },
    saveDevices: () => calls.push('saveDevices'),
    saveFaults: () => calls.push('saveFaults'),
    updateRun: (_id, fields) => calls.push(`updateRun:${fields.status}:${fields.error ?? ''}`),
  }
  return { w, calls }
}

const summary = {} as RunSummary
const device = {} as Parameters<NonNullable<ResultWriter['saveDevices']>>[1][number]
const fault = {} as Parameters<NonNullable<ResultWriter['saveFaults']>>[1][number]

describe('storeRunEnd', () => {
  it('writes faults, rows, devices, then the final status; skips empty faults and devices', () => {
    const a = writer()
    storeRunEnd(a.w, createLogger({ write: () => {} }), 'r1', {
      status: 'completed',
      summary,
      rows: [],
      devices: [device],
      faults: [fault],
    })
    expect(a.calls).toEqual(['saveFaults', 'saveSummary', 'saveDevices', 'updateRun:completed:'])
    const b = writer()
    storeRunEnd(b.w, createLogger({ write: () => {} }), 'r2', {
      status: 'failed',
      summary,
      rows: [],
      devices: [],
      faults: [],
      error: 'boom',
    })
    expect(b.calls).toEqual(['saveSummary', 'updateRun:failed:boom'])
  })

  it('logs a failing store instead of throwing', () => {
    const lines: string[] = []
    const a = writer('saveSummary')
    expect(() =>
      storeRunEnd(a.w, createLogger({ write: (l) => lines.push(l) }), 'r3', {
        status: 'completed',
        summary,
        rows: [],
        devices: [],
      }),
    ).not.toThrow()
    expect(lines.join('')).toContain('store write failed')
    expect(lines.join('')).toContain('disk full')
  })
})
