import type { ConnectionStatus } from '@iotload/sdk'
import type { MemorySubscription } from './memory-subscription.ts'

/** What the bus needs from a connection to report an outage to it. */
export interface BusMember {
  status(status: ConnectionStatus, detail?: string): void
  /** The outage started: fail what is waiting to be routed. */
  dropPending(): void
}

/** Counters of one bus, for assertions. */
export interface BusStats {
  /** Messages accepted for routing (lost ones included). */
  published: number
  /** Deliveries handed to subscriptions (one message may reach several). */
  delivered: number
  /** Messages dropped by the `loss` knob, `capacity`, an outage or a full paused backlog. */
  dropped: number
}

/**
 * A named in-process message bus. Connections with the same `bus` name share it; the routing is
 * synchronous and runs on the publishing connection's own (asynchronous) flush.
 */
export class MemoryBus {
  readonly stats: BusStats = { published: 0, delivered: 0, dropped: 0 }
  private readonly direct = new Set<MemorySubscription>()
  private readonly groups = new Map<string, { members: MemorySubscription[]; next: number }>()
  private readonly members = new Set<BusMember>()
  private down = false
  private outageTimer: NodeJS.Timeout | undefined
  /** Messages per second routed at most (`capacity` in the config); undefined: unlimited. */
  private capacity: number | undefined
  private tokens = 0
  private refilledAt = 0
  /**
   * The bus's time in ms, for `capacity`. Tests that drive the engine with a manual clock point
   * this at the same clock, so the capacity holds in simulated seconds. @default performance.now
   */
  clock: () => number = () => performance.now()

  constructor(readonly name: string) {}

  /** @internal Sets the routing capacity (the latest connection's config wins). */
  setCapacity(perSecond: number | undefined): void {
    if (perSecond === this.capacity) return
    this.capacity = perSecond
    this.tokens = perSecond === undefined ? 0 : Math.max(1, perSecond / 10)
    this.refilledAt = this.clock()
  }

  /** @internal Whether one more message fits the capacity now (a token bucket of 100 ms). */
  admit(): boolean {
    if (this.capacity === undefined) return true
    const now = this.clock()
    const burst = Math.max(1, this.capacity / 10)
    this.tokens = Math.min(burst, this.tokens + ((now - this.refilledAt) * this.capacity) / 1000)
    this.refilledAt = now
    if (this.tokens < 1) return false
    this.tokens--
    return true
  }

  /** Open connections on this bus. */
  get connections(): number {
    return this.members.size
  }

  /** Live subscriptions on this bus. */
  get subscriptions(): number {
    let n = this.direct.size
    for (const g of this.groups.values()) n += g.members.length
    return n
  }

  /** Whether a simulated outage is in progress. */
  get isDown(): boolean {
    return this.down
  }

  /**
   * Starts a simulated outage: every connection reports `disconnected`, publishing with QoS ≥ 1
   * fails, QoS 0 messages are lost, new connections are refused. Held backlogs survive.
   */
  disconnect(detail = 'simulated outage'): void {
    if (this.down) return
    this.down = true
    for (const m of this.members) {
      m.dropPending()
      m.status('disconnected', detail)
    }
  }

  /** Ends the outage: every connection reports `reconnecting`, then `reconnected`. */
  reconnect(): void {
    clearTimeout(this.outageTimer)
    this.outageTimer = undefined
    if (!this.down) return
    this.down = false
    for (const m of this.members) {
      m.status('reconnecting')
      m.status('reconnected')
    }
  }

  /** An outage of `ms`, ending by itself; resolves once the bus is back. */
  outage(ms: number, detail?: string): Promise<void> {
    this.disconnect(detail)
    return new Promise((resolve) => {
      this.outageTimer = setTimeout(() => {
        this.reconnect()
        resolve()
      }, ms)
    })
  }

  /** @internal Registers a connection. */
  join(member: BusMember): void {
    this.members.add(member)
  }

  /** @internal Forgets a connection. */
  leave(member: BusMember): void {
    this.members.delete(member)
  }

  /** @internal Starts routing to a subscription. */
  add(sub: MemorySubscription): void {
    if (sub.group === undefined) {
      this.direct.add(sub)
      return
    }
    const key = groupKey(sub.group, sub.filter)
    const g = this.groups.get(key)
    if (g) g.members.push(sub)
    else this.groups.set(key, { members: [sub], next: 0 })
  }

  /** @internal Stops routing to a subscription. */
  remove(sub: MemorySubscription): void {
    if (sub.group === undefined) {
      this.direct.delete(sub)
      return
    }
    const key = groupKey(sub.group, sub.filter)
    const g = this.groups.get(key)
    if (!g) return
    g.members = g.members.filter((m) => m !== sub)
    if (g.members.length === 0) this.groups.delete(key)
  }

  /**
   * @internal Delivers one accepted message to every matching subscription, and to one member of
   * each matching group (round robin, preferring a member that is not paused).
   */
  route(topic: string, payload: Uint8Array, headers: Record<string, string> | undefined): void {
    this.stats.published++
    let first = true
    // Each receiver after the first gets its own copy, as from a real broker.
    const deliver = (sub: MemorySubscription) => {
      const p = first ? payload : payload.slice()
      first = false
      this.stats.delivered++
      sub.offer(
        headers === undefined ? { topic, payload: p } : { topic, payload: p, headers: { ...headers } },
      )
    }
    for (const sub of this.direct) if (sub.matches(topic)) deliver(sub)
    for (const g of this.groups.values()) {
      if (!g.members[0]!.matches(topic)) continue
      const n = g.members.length
      let pick = g.next % n
      for (let i = 0; i < n; i++) {
        const j = (g.next + i) % n
        if (g.members[j]!.ready) {
          pick = j
          break
        }
      }
      g.next = (pick + 1) % n
      deliver(g.members[pick]!)
    }
  }
}

function groupKey(group: string, filter: string): string {
  return `${group}\u0000${filter}`
}

const buses = new Map<string, MemoryBus>()

/**
 * The bus of that name in this process, created on first use: what `broker: { plugin: memory,
 * bus: <name> }` connects to. Tests use it to inject an outage or read the counters.
 *
 * @example
 * const bus = memoryBus('engine-test')
 * await bus.outage(500)
 * expect(bus.connections).toBe(0)
 */
export function memoryBus(name = 'default'): MemoryBus {
  let bus = buses.get(name)
  if (!bus) {
    bus = new MemoryBus(name)
    buses.set(name, bus)
  }
  return bus
}
