import { Worker } from 'node:worker_threads'
import type { Logger } from '../log/logger.ts'
import type { KeeperCommand, KeeperEvent, KeeperWorkerData } from './lease-keeper-worker.ts'
import type { RedisSettings } from './redis-client.ts'

/** Settings of a lease keeper. */
export interface LeaseKeeperOptions {
  redis: RedisSettings
  logger: Logger
  /**
   * How long the main thread may show no sign of life before the keeper stops renewing (a hung
   * daemon must lose its leases). Signs of life come every 250 ms from a timer on the main loop.
   * @default 30000
   */
  stallBudgetMs?: number
}

/** Called when a held lease turned out to be someone else's (or gone): `holder` is who has it now. */
export type LeaseLost = (holder: string | null) => void

const ALIVE_EVERY_MS = 250

/**
 * Keeps this daemon's leases (registration, coordinator locks, topic claims) from a worker thread.
 * Renewing from the main event loop failed under load: a merge of 18,000 topic-seconds blocked it
 * for 32–49 s, and a busy producer delayed it by up to 4 s, both past a 5 s lease. The keeper's
 * thread does nothing else, so only a stop of the whole process (SIGSTOP, no CPU at all) or a main
 * thread silent for the stall budget lets a lease lapse.
 */
export class LeaseKeeper {
  private readonly worker: Worker
  private readonly alive = new BigInt64Array(new SharedArrayBuffer(8))
  private readonly onLost = new Map<string, LeaseLost>()
  private readonly ping: NodeJS.Timeout
  private closed = false
  private closedAck: (() => void) | undefined
  private readyAck: (() => void) | undefined
  /** Resolves once the keeper's thread runs (its start-up takes ~0.3–2 s: it loads its own modules). */
  readonly ready = new Promise<void>((r) => {
    this.readyAck = r
  })

  constructor(private readonly o: LeaseKeeperOptions) {
    this.touch()
    const data: KeeperWorkerData = {
      redis: o.redis,
      alive: this.alive.buffer as SharedArrayBuffer,
      stallBudgetMs: o.stallBudgetMs ?? 30_000,
    }
    // A tiny ESM bootstrap registers the TypeScript loader inside the thread (no build step).
    this.worker = new Worker(new URL('./lease-keeper-boot.mjs', import.meta.url), {
      workerData: { ...data, entry: new URL('./lease-keeper-worker.ts', import.meta.url).href },
    })
    this.worker.unref()
    this.worker.on('message', (e: KeeperEvent) => this.onEvent(e))
    this.worker.on('error', (err) => o.logger.error('lease keeper thread failed', { error: String(err) }))
    this.ping = setInterval(() => this.touch(), ALIVE_EVERY_MS)
    this.ping.unref()
  }

  private touch(): void {
    Atomics.store(this.alive, 0, BigInt(Date.now()))
  }

  private send(c: KeeperCommand): void {
    if (!this.closed) this.worker.postMessage(c)
  }

  private onEvent(e: KeeperEvent): void {
    if (e.op === 'ready') this.readyAck?.()
    else if (e.op === 'closed') this.closedAck?.()
    else if (e.op === 'stalled')
      this.o.logger.error('the main thread was unresponsive past the stall budget; leases are let go', {
        silentMs: e.sinceMs,
      })
    else {
      const cb = this.onLost.get(e.key)
      this.onLost.delete(e.key)
      cb?.(e.holder)
    }
  }

  /** Keeps the daemon's registration (`SET key value PX ttl`, `SADD setKey id`) alive. */
  register(key: string, setKey: string, id: string, value: string, ttlMs: number): void {
    this.send({ op: 'member', key, setKey, id, value, ttlMs })
  }

  /**
   * Renews a lease the caller has just taken (`SET key owner NX PX leaseMs`) every third of the
   * lease until `drop`. `reclaim`: a lease that lapsed while nobody took it is taken back (topic
   * claims); without it a lapse is a loss (coordinator locks: an adopter may have come and gone).
   */
  hold(key: string, owner: string, leaseMs: number, onLost: LeaseLost, reclaim = false): void {
    this.onLost.set(key, onLost)
    this.send({ op: 'hold', key, owner, leaseMs, reclaim })
  }

  /** Stops renewing (the caller deletes or hands over the keys itself). */
  drop(...keys: string[]): void {
    for (const k of keys) this.onLost.delete(k)
    if (keys.length > 0) this.send({ op: 'drop', keys })
  }

  /** Stops the thread (its leases lapse unless the caller released them). */
  async close(): Promise<void> {
    if (this.closed) return
    clearInterval(this.ping)
    const acked = new Promise<void>((r) => {
      this.closedAck = r
    })
    this.send({ op: 'close' })
    this.closed = true
    await Promise.race([acked, new Promise((r) => setTimeout(r, 1000).unref())])
    await this.worker.terminate()
  }
}
