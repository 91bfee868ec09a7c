import type { RunTelemetry, WorkerTelemetry } from '@iotload/sdk'

/**
 * A cluster producer's sends per topic (consumers compare them with what they received), counted
 * by the run's `onSend` hook. The same counting runs inside each worker thread of a sharded run
 * (`run.workers`): this module is what the workers import (`RunTelemetry.sharding.module`).
 */
export function sendsByTopicTelemetry(counts: Map<string, number>): RunTelemetry {
  return {
    onSend: (i) => {
      counts.set(i.topic, (counts.get(i.topic) ?? 0) + 1)
      return undefined
    },
    sharding: {
      module: import.meta.url,
      absorb(state) {
        if (typeof state !== 'object' || state === null) return
        for (const [topic, n] of Object.entries(state))
          if (typeof n === 'number') counts.set(topic, (counts.get(topic) ?? 0) + n)
      },
    },
  }
}

/** A worker thread's share: its devices' sends per topic since the last `take()`. */
export function workerTelemetry(): WorkerTelemetry {
  const counts = new Map<string, number>()
  const { onSend } = sendsByTopicTelemetry(counts)
  return {
    ...(onSend ? { onSend } : {}),
    take() {
      const taken = Object.fromEntries(counts)
      counts.clear()
      return taken
    },
  }
}
