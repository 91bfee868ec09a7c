/**
 * Whether a kafkajs error is a transient start-up condition of the broker: a topic created a
 * moment ago whose leader is not known yet ("not the leader", "does not host this
 * topic-partition"), or a consumer-offsets topic still being created on a fresh broker ("failed to
 * find group coordinator"). kafkajs passes some of these through, or gives up on them.
 */
export function isTransient(err: unknown): boolean {
  let e: unknown = err
  for (let depth = 0; e && typeof e === 'object' && depth < 8; depth++) {
    const x = e as { name?: unknown; retriable?: unknown; cause?: unknown }
    if (x.name === 'KafkaJSSASLAuthenticationError') return false
    if (x.retriable === true || x.name === 'KafkaJSGroupCoordinatorNotFound') return true
    e = x.cause
  }
  return false
}

/**
 * Retries a set-up request (topic creation, offset lookups, coordinator lookup) while it fails
 * transiently, for up to `attempts × delayMs`. Never used for publishing: the daemon owns that.
 */
export async function retrySetup<T>(request: () => Promise<T>, attempts = 40, delayMs = 250): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await request()
    } catch (err) {
      if (i >= attempts || !isTransient(err)) throw err
      await new Promise((r) => setTimeout(r, delayMs))
    }
  }
}
