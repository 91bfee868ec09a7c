import type { IdentityTable } from '../scenario/identities-file.ts'
import type { ProducerGroup } from '../scenario/schema.ts'

/**
 * A contiguous slice of a fleet's devices, scheduled on the fleet's own schedule: send n of the
 * fleet goes to device `n mod fleet`, so a shard fires exactly the sends (device, seq, intended
 * time) the whole fleet would have fired for its devices. A run split across worker threads thus
 * sends what a single-thread run sends, per device, to the microsecond.
 */
export interface DeviceShard {
  /** First device index of the shard, within the fleet (0-based). */
  from: number
  /** Devices in the shard. */
  count: number
  /** Devices in the whole fleet. */
  fleet: number
}

/**
 * A shard's rows of the fleet's identities: its device k is the fleet's device `from + k`, so it
 * takes row `from + k` (mod the rows with `wrap`). Devices own their connection (workers-check.ts).
 */
export function identitiesOfShard(table: IdentityTable, shard: DeviceShard): IdentityTable {
  const n = table.rows.length
  const rows = Array.from(
    { length: shard.count },
    (_, k) => table.rows[table.wrap ? (shard.from + k) % n : shard.from + k]!,
  )
  return { ...table, rows, wrap: false }
}

/** The whole fleet as one shard (today's single-thread run). */
export function wholeFleet(devices: number): DeviceShard {
  return { from: 0, count: devices, fleet: devices }
}

/** Index of the shard's first send at or after fleet send `n`. */
export function nextInShard(s: DeviceShard, n: number): number {
  if (s.count === s.fleet) return n
  const dev = n % s.fleet
  const base = n - dev
  if (dev < s.from) return base + s.from
  if (dev < s.from + s.count) return n
  return base + s.fleet + s.from
}

/** How many of the fleet's first `n` sends belong to the shard. */
export function countInShard(s: DeviceShard, n: number): number {
  if (s.count === s.fleet) return n
  const rounds = Math.floor(n / s.fleet)
  const rest = n - rounds * s.fleet
  return rounds * s.count + Math.min(s.count, Math.max(0, rest - s.from))
}

/** Splits `devices` into at most `parts` contiguous shards whose sizes differ by at most one. */
export function splitFleet(devices: number, parts: number): DeviceShard[] {
  const n = Math.max(1, Math.min(parts, devices))
  const shards: DeviceShard[] = []
  let from = 0
  for (let k = 0; k < n; k++) {
    const count = Math.floor(devices / n) + (k < devices % n ? 1 : 0)
    shards.push({ from, count, fleet: devices })
    from += count
  }
  return shards
}

/**
 * Each device group's slice of a fleet shard, in the group's own numbering: groups number their
 * devices on from one to the next, so a shard of the fleet may hold the end of one group and the
 * start of the next. Groups the shard does not reach are left out.
 */
export function groupShards(
  groups: readonly ProducerGroup[],
  shard: DeviceShard,
): Array<{ group: ProducerGroup; shard: DeviceShard }> {
  const first = groups[0]?.config.firstDevice ?? 0
  return groups.flatMap((group) => {
    const start = group.config.firstDevice - first
    const from = Math.max(shard.from, start)
    const to = Math.min(shard.from + shard.count, start + group.config.devices)
    return to > from
      ? [{ group, shard: { from: from - start, count: to - from, fleet: group.config.devices } }]
      : []
  })
}
