/** How a received sequence number relates to what the device already delivered. */
export type SeqVerdict = 'in-order' | 'late' | 'duplicate'

const INITIAL_BYTES = 16
/** Per-device memory bound: beyond 2^26 seqs back, old bits are dropped and late arrivals counted as late. */
const MAX_WINDOW_BITS = 1 << 26

/** Sequence bookkeeping for one device: a growable bitset of seen seqs above `base`. */
class DeviceSequence {
  maxSeq = -1
  base = 0
  bits = new Uint8Array(INITIAL_BYTES)

  see(seq: number): SeqVerdict {
    if (seq < this.base) return 'late'
    let idx = seq - this.base
    if (idx >= this.bits.length * 8) {
      if (idx >= MAX_WINDOW_BITS) {
        // Slide the window forward by whole bytes, keeping the most recent half.
        const shiftBytes = Math.floor((idx - MAX_WINDOW_BITS / 2) / 8)
        this.bits = this.bits.slice(Math.min(shiftBytes, this.bits.length))
        this.base += shiftBytes * 8
        idx = seq - this.base
      }
      const grown = new Uint8Array(Math.max(this.bits.length * 2, (idx >> 3) + 1))
      grown.set(this.bits)
      this.bits = grown
    }
    const byte = idx >> 3
    const mask = 1 << (idx & 7)
    if (this.bits[byte]! & mask) return 'duplicate'
    this.bits[byte]! |= mask
    if (seq > this.maxSeq) {
      this.maxSeq = seq
      return 'in-order'
    }
    return 'late'
  }

  has(seq: number): boolean | undefined {
    if (seq < this.base) return undefined
    const idx = seq - this.base
    if (idx >= this.bits.length * 8) return false
    return (this.bits[idx >> 3]! & (1 << (idx & 7))) !== 0
  }
}

/**
 * Detects duplicates and reordering per device, and counts sequence gaps seen so far
 * (seqs below a device's highest that have not arrived: lost, or still in flight).
 */
export class SequenceTracker {
  private readonly devices = new Map<number, DeviceSequence>()
  /** Σ over devices of (highest seq + 1). */
  private expected = 0
  /** Distinct (device, seq) pairs seen. */
  unique = 0

  see(dev: number, seq: number): SeqVerdict {
    let d = this.devices.get(dev)
    if (!d) {
      d = new DeviceSequence()
      this.devices.set(dev, d)
    }
    const before = d.maxSeq
    const verdict = d.see(seq)
    if (verdict === 'duplicate') return verdict
    this.unique++
    if (d.maxSeq > before) this.expected += d.maxSeq - before
    return verdict
  }

  /** The highest seq seen from a device, -1 when none arrived. */
  highest(dev: number): number {
    return this.devices.get(dev)?.maxSeq ?? -1
  }

  /** Whether (dev, seq) arrived; undefined when its bit already left the window (see MAX_WINDOW_BITS). */
  has(dev: number, seq: number): boolean | undefined {
    const d = this.devices.get(dev)
    return d ? d.has(seq) : false
  }

  /** Messages below each device's highest seq that have not arrived yet. */
  get gaps(): number {
    return Math.max(0, this.expected - this.unique)
  }

  get deviceCount(): number {
    return this.devices.size
  }
}
