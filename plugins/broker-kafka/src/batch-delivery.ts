import type { InboundMessage } from '@iotload/sdk'
import type { EachBatchPayload } from 'kafkajs'
import { advance, type Positions } from './consumer-lag.ts'
import { headersToStrings } from './headers.ts'

const EMPTY = Buffer.alloc(0)
/** How long a paused delivery waits before it heartbeats (keeping its group membership). */
const PAUSED_HEARTBEAT_MS = 1000

/**
 * Hands kafkajs batches to the subscriber's callback, record by record, and holds them back while
 * paused (the bridge's back-pressure): the batch handler waits, so kafkajs' fetch loop waits with
 * it and the backlog stays in Kafka (consumer lag) instead of in memory.
 */
export class BatchDelivery {
  /** Holds deliveries until `open()`: the caller of subscribe must hold its handle first. */
  private gate: Promise<void> | undefined
  private openGate: () => void = () => {}
  private paused = false
  private wakePaused: () => void = () => {}
  private pausedUntilResumed: Promise<void> = Promise.resolve()

  constructor(
    private readonly onMessage: (msg: InboundMessage) => void,
    /** Where the member stands per partition, advanced as records are handed over. */
    private readonly positions: Positions,
    /** Whether the subscription is being stopped on purpose. */
    private readonly stopped: () => boolean,
  ) {
    this.gate = new Promise((resolve) => {
      this.openGate = resolve
    })
  }

  /**
   * Lets deliveries start, once the code that awaited `subscribe` has run (a macrotask later).
   * The first fetch completes before `subscribe` resolves, and a backlog (a named group's old
   * commits, `fromBeginning`) was handed over in one synchronous burst before the bridge had the
   * handle it pauses: 10 MB of records, ~93k, against its queue of 10k (issue #20's overflow drops).
   */
  open(): void {
    setImmediate(() => {
      this.gate = undefined
      this.openGate()
    })
  }

  /** kafkajs' `eachBatch`: offsets are resolved up to the last record handed over. */
  readonly eachBatch = async ({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload) => {
    const { topic, partition } = batch
    const onMessage = this.onMessage
    // Leaves at once when the consumer stops (unsubscribe, topic refresh) or the batch went
    // stale in a rebalance, paused or not: a paused member must not hold up its group.
    const gone = () => this.stopped() || !isRunning() || isStale()
    if (this.gate) await this.gate
    let last: string | undefined
    try {
      for (const m of batch.messages) {
        while (this.paused && !gone()) await this.waitForResume(heartbeat)
        if (gone()) break
        const headers = headersToStrings(m.headers)
        const payload = m.value ?? EMPTY
        onMessage(headers ? { topic, payload, headers } : { topic, payload })
        last = m.offset
      }
    } finally {
      // Also when a heartbeat reports a rebalance: what was handed over is not read again.
      if (last !== undefined) {
        resolveOffset(last)
        advance(this.positions, topic, partition, last)
      }
    }
  }

  pause(): void {
    if (this.paused) return
    this.paused = true
    this.pausedUntilResumed = new Promise((resolve) => {
      this.wakePaused = resolve
    })
  }

  resume(): void {
    if (!this.paused) return
    this.paused = false
    this.wakePaused()
  }

  /** Lets a waiting batch look at `stopped` again (unsubscribe while paused or before `open`). */
  wake(): void {
    this.wakePaused()
    this.openGate()
  }

  /**
   * Waits for `resume()` at most `PAUSED_HEARTBEAT_MS`, then heartbeats so a long pause keeps the
   * group membership. A heartbeat that reports a rebalance throws, which is how kafkajs leaves the
   * batch and rejoins: that error is not swallowed.
   */
  private async waitForResume(heartbeat: () => Promise<void>): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      this.pausedUntilResumed,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, PAUSED_HEARTBEAT_MS)
      }),
    ])
    clearTimeout(timer)
    if (this.paused) await heartbeat()
  }
}
