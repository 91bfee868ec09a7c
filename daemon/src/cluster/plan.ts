import type { ResolvedScenario } from '../scenario/load-scenario.ts'
import type { MemberInfo } from './member.ts'

/** A producer daemon's share of the fleet. */
export interface ProducerSlot {
  member: string
  firstDevice: number
  devices: number
}

/** Who does what in a cluster run; stored at `run:{id}:plan`, read by every assigned member. */
export interface RunPlan {
  id: string
  coordinator: string
  /** The raw scenario as submitted (secret references unresolved; each member resolves them). */
  scenario: Record<string, unknown>
  producers: ProducerSlot[]
  consumers: string[]
  bridges: string[]
  /** Claim lease; claims are renewed every third of it. */
  leaseMs: number
  /** Coordinator-clock epoch ms of second 0 of the per-second series. */
  epochMs: number
  createdAt: number
}

/**
 * Splits `devices` across producer members in proportion to their capacity (each gets at least
 * one device while devices remain); the remainder goes to the first members.
 */
export function splitDevices(firstDevice: number, devices: number, producers: MemberInfo[]): ProducerSlot[] {
  if (producers.length === 0) return []
  const n = Math.min(producers.length, devices)
  const used = producers.slice(0, n)
  const totalCap = used.reduce((s, m) => s + Math.max(1, m.capacity), 0)
  const shares = used.map((m) => Math.max(1, Math.floor((devices * Math.max(1, m.capacity)) / totalCap)))
  let left = devices - shares.reduce((a, b) => a + b, 0)
  for (let i = 0; left > 0; i = (i + 1) % n, left--) shares[i]!++
  for (let i = n - 1; left < 0; i = (i - 1 + n) % n) {
    if (shares[i]! > 1) {
      shares[i]!--
      left++
    }
  }
  const slots: ProducerSlot[] = []
  let next = firstDevice
  used.forEach((m, i) => {
    slots.push({ member: m.id, firstDevice: next, devices: shares[i]! })
    next += shares[i]!
  })
  return slots
}

/** The raw scenario a producer daemon runs: its device range, no consumer, no bridge. */
export function producerScenario(
  raw: Record<string, unknown>,
  slot: ProducerSlot,
  totalDevices: number,
): Record<string, unknown> {
  const s = structuredClone(raw)
  const p = { ...(s.producer as Record<string, unknown>) }
  p.firstDevice = slot.firstDevice
  p.devices = slot.devices
  // totalRate, stage targets and connectRate are fleet-wide: each producer takes its share.
  const share = (v: unknown): unknown => {
    if (typeof v === 'number') return (v * slot.devices) / totalDevices
    const m = /^\s*([\d.]+)\s*(.*)$/.exec(String(v))
    return m ? `${(Number(m[1]) * slot.devices) / totalDevices}${m[2] ?? ''}` : v
  }
  if (p.totalRate !== undefined) p.totalRate = share(p.totalRate)
  if (p.connectRate !== undefined) p.connectRate = share(p.connectRate)
  if (Array.isArray(p.stages))
    p.stages = p.stages.map((st: unknown) =>
      st !== null && typeof st === 'object' && 'target' in st ? { ...st, target: share(st.target) } : st,
    )
  s.producer = p
  s.consumer = { ...((s.consumer as Record<string, unknown>) ?? {}), enabled: false }
  delete s.bridge
  return s
}

/** Members able to take a role, in a stable order. */
export function withRole(members: MemberInfo[], role: 'producer' | 'consumer' | 'bridge'): MemberInfo[] {
  return members.filter((m) => m.roles.includes(role) || m.roles.includes('any'))
}

/** Topic a consumer measures for a producer topic's device: the bridge's `to` when bridged. */
export function usesBridge(resolved: ResolvedScenario): boolean {
  return resolved.scenario.bridge !== undefined
}
