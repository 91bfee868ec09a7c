import { ConfigError } from '@iotload/sdk'
import type { ResolvedScenario } from '../scenario/load-scenario.ts'
import type { ProducerConfig } from '../scenario/schema.ts'
import { ServiceError } from '../service/errors.ts'
import type { MemberInfo } from './member.ts'

/** A producer daemon's share of the fleet. */
export interface ProducerSlot {
  member: string
  firstDevice: number
  devices: number
  /**
   * This producer's share of the fleet-wide `producer.totalRate`, msg/s (in proportion to its
   * devices). Absent when the scenario gives a per-device `rate`, which needs no share.
   */
  totalRate?: number
  /** This producer's share of each `producer.stages` target, msg/s, in stage order. */
  stageTargets?: number[]
  /** This producer's share of `producer.connectRate`, connections/s. */
  connectRate?: number
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

/**
 * The producer slots of a run: devices split by capacity (`splitDevices`) and, for the fleet-wide
 * rates the scenario gives (`totalRate`, stage targets, `connectRate`, already parsed to numbers
 * by the scenario schema), each slot's share as a number, so no member parses or rewrites rate text.
 */
export function planProducers(producer: ProducerConfig, producers: MemberInfo[]): ProducerSlot[] {
  const slots = splitDevices(producer.firstDevice, producer.devices, producers)
  const { totalRate, stages, connectRate } = producer
  return slots.map((slot) => {
    // Fleet-wide rates (totalRate, stage targets, connectRate) are shared by devices.
    const share = (r: number) => (r * slot.devices) / producer.devices
    return {
      ...slot,
      ...(totalRate !== undefined ? { totalRate: share(totalRate) } : {}),
      ...(stages ? { stageTargets: stages.map((st) => share(st.target)) } : {}),
      ...(connectRate !== undefined ? { connectRate: share(connectRate) } : {}),
    }
  })
}

/** The raw scenario a producer daemon runs: its device range and rate share, no consumer, no bridge. */
export function producerScenario(raw: Record<string, unknown>, slot: ProducerSlot): Record<string, unknown> {
  const s = structuredClone(raw)
  const p = { ...(s.producer as Record<string, unknown>) }
  p.firstDevice = slot.firstDevice
  p.devices = slot.devices
  // A number is a rate in msg/s to the scenario schema, as `200/s` is.
  if (slot.totalRate !== undefined) p.totalRate = slot.totalRate
  if (slot.connectRate !== undefined) p.connectRate = slot.connectRate
  const targets = slot.stageTargets
  if (targets && Array.isArray(p.stages))
    p.stages = p.stages.map((st: unknown, i) =>
      st !== null && typeof st === 'object' ? { ...st, target: targets[i] ?? 0 } : st,
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

/**
 * Who does what in a validated run: the fleet split over the live producer members, every live
 * consumer and bridge member. Throws ServiceError (503) when the run needs a role no member has.
 */
export function assignRoles(
  resolved: ResolvedScenario,
  members: MemberInfo[],
): Pick<RunPlan, 'producers' | 'consumers' | 'bridges'> {
  const s = resolved.scenario
  if (s.grouped)
    throw new ConfigError(
      'producers',
      'device groups run in one process (iotload run or POST /runs); a cluster run takes one producer:',
    )
  if (s.consumer.mode === 'fanout')
    throw new ConfigError(
      'consumer.mode',
      'a fan-out is accounted in one process (iotload run or POST /runs); a cluster run takes mode: shared',
    )
  const producers = withRole(members, 'producer')
  if (producers.length === 0)
    throw new ServiceError('unavailable', 'NO_PRODUCERS', 'no producer daemon in the cluster')
  const consumers = s.consumer.enabled ? withRole(members, 'consumer') : []
  if (s.consumer.enabled && consumers.length === 0)
    throw new ServiceError(
      'unavailable',
      'NO_CONSUMERS',
      'no consumer daemon in the cluster (or set consumer.enabled: false)',
    )
  const bridges = s.bridge ? withRole(members, 'bridge') : []
  if (s.bridge && bridges.length === 0)
    throw new ServiceError('unavailable', 'NO_BRIDGES', 'no bridge daemon in the cluster')
  return {
    producers: planProducers(s.producer, producers),
    consumers: consumers.map((m) => m.id),
    bridges: bridges.map((m) => m.id),
  }
}

/** Topic a consumer measures for a producer topic's device: the bridge's `to` when bridged. */
export function usesBridge(resolved: ResolvedScenario): boolean {
  return resolved.scenario.bridge !== undefined
}
