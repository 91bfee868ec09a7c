import { describe, expect, it } from 'vitest'
import { formatMsgId, parseMsgId } from '../scenario/msgid.ts'
import { CorrelationTable } from './correlation-table.ts'

describe('CorrelationTable', () => {
  it('finds a send by device and seq until its device has sent a window’s share more', () => {
    // 3 devices (10–12), window 7: 2 slots per device, 144 bytes.
    const t = new CorrelationTable(10, 3, 7)
    expect(t.perDevice).toBe(2)
    expect(t.bytes).toBe(3 * 2 * 24)
    t.put(11, 0, 1000, 990, true)
    t.put(11, 1, 2000, 1990, false)
    expect(t.get(11, 0)).toEqual({ tUs: 1000, tiUs: 990, warmup: true })
    expect(t.get(11, 1)).toEqual({ tUs: 2000, tiUs: 1990, warmup: false })
    t.put(11, 2, 3000, 2990, false) // reuses seq 0's slot
    expect(t.get(11, 0)).toBeUndefined()
    expect(t.get(11, 2)).toMatchObject({ tUs: 3000 })
    expect(t.get(10, 0)).toBeUndefined() // never sent
    expect(t.get(13, 0)).toBeUndefined() // not a device of this fleet
    t.put(99, 0, 1, 1, false) // ignored, not an error
  })

  it('keeps at least one slot per device, however small the window', () => {
    expect(new CorrelationTable(0, 1000, 10).perDevice).toBe(1)
  })

  it('ids round-trip', () => {
    expect(parseMsgId(formatMsgId('a1b2c3', 7, 12345))).toEqual({ run: 'a1b2c3', dev: 7, seq: 12345 })
  })
})
