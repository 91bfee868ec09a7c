import type { BrokerConnection, OutboundMessage, Subscription } from '@iotload/sdk'
import { ClosedError } from '@iotload/sdk'
import type { EngineClock } from './clock.ts'
import { connectAll } from './connect-all.ts'
import { closeAll, connectLatencyStats, failureCause } from './device-connections.ts'
import { LatencyHistogram } from './histogram.ts'

/** What a reconnect storm did and how the broker took it. */
export interface StormStats {
  /** When it started, seconds since the schedule started. */
  atS: number
  /** Connections dropped (and reopened at once). */
  dropped: number
  reconnected: number
  failed: number
  /** From the drop until the last reconnect attempt ended, ms. */
  reconnectMs: number
  /** Each reconnect's duration, µs (failures included). */
  connectLatencyUs: { count: number; p50: number; p99: number; max: number }
  failuresByCause: Record<string, number>
}

/** Options for `reconnectStorm`. */
export interface StormOptions {
  /** The fleet's connections; dropped entries are replaced in place. */
  connections: BrokerConnection[]
  /** Share of the connections to drop, (0, 1], spread evenly across the fleet. */
  fraction: number
  /**
   * Where `connections` start among the whole fleet's, when they are a worker's slice of it: the
   * slices then drop exactly the connections one thread would. @default 0
   */
  firstIndex?: number
  /** Opens connection i again (same device, client id and credentials). */
  reopen: (i: number) => Promise<BrokerConnection>
  clock: EngineClock
  /** When it started, µs since the schedule started (for the report). */
  atUs: number
}

/**
 * Indexes of `count` connections to drop for `fraction`, spread evenly (every other one for 0.5).
 * The choice is made on the whole fleet's numbering (`first` is this slice's first connection in
 * it), so a fleet cut into slices drops the same connections as the fleet in one piece.
 */
export function stormIndexes(count: number, fraction: number, first = 0): number[] {
  const out: number[] = []
  for (let j = 0; j < count; j++) {
    const g = first + j
    if (Math.floor((g + 1) * fraction) > Math.floor(g * fraction)) out.push(j)
  }
  return out
}

/**
 * A device offline until its connection is back: publishes wait for the reconnect (as a device
 * buffers telemetry while its link is down), in order, and fail with the connect error if it fails.
 * The schedule keeps its intended times, so the wait shows in the corrected latency.
 */
class ReconnectingConnection implements BrokerConnection {
  constructor(private readonly ready: Promise<BrokerConnection>) {
    // Nobody may be publishing when it fails; the error is reported by the storm itself.
    ready.catch(() => {})
  }

  publish(topic: string, msg: OutboundMessage): Promise<void> {
    return this.ready.then((c) => c.publish(topic, msg))
  }

  subscribe(): Promise<Subscription> {
    return Promise.reject(new ClosedError('a producer connection that is reconnecting does not subscribe'))
  }

  close(): Promise<void> {
    return this.ready.then(
      (c) => c.close(),
      () => {},
    )
  }
}

/**
 * Drops a share of the fleet's connections at once and reconnects them all at once: what a broker
 * faces after a site power cut. Sends to a dropped device wait for its new connection.
 */
export async function reconnectStorm(o: StormOptions): Promise<StormStats> {
  const indexes = stormIndexes(o.connections.length, o.fraction, o.firstIndex)
  const t0 = o.clock.nowUs()
  const settle = indexes.map(() => {
    let resolve!: (c: BrokerConnection) => void
    let reject!: (e: unknown) => void
    const ready = new Promise<BrokerConnection>((res, rej) => {
      resolve = res
      reject = rej
    })
    return { ready, resolve, reject }
  })
  const old = indexes.map((j, k) => {
    const conn = o.connections[j]!
    o.connections[j] = new ReconnectingConnection(settle[k]!.ready)
    return conn
  })
  await closeAll(old)
  const latency = new LatencyHistogram()
  const failuresByCause: Record<string, number> = {}
  let failed = 0
  await connectAll(
    indexes.length,
    indexes.length,
    async (k) => {
      try {
        const conn = await o.reopen(indexes[k]!)
        o.connections[indexes[k]!] = conn
        settle[k]!.resolve(conn)
        return conn
      } catch (err) {
        settle[k]!.reject(err)
        throw err
      }
    },
    {
      clock: o.clock,
      onAttempt: (_k, us, error) => {
        latency.record(us)
        if (error === undefined) return
        failed++
        const cause = failureCause(error)
        failuresByCause[cause] = (failuresByCause[cause] ?? 0) + 1
      },
    },
  )
  return {
    atS: o.atUs / 1e6,
    dropped: indexes.length,
    reconnected: indexes.length - failed,
    failed,
    reconnectMs: Math.round((o.clock.nowUs() - t0) / 1000),
    connectLatencyUs: connectLatencyStats(latency),
    failuresByCause,
  }
}
