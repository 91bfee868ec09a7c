import { ClosedError, type PausableSubscription } from '@iotload/sdk'

const SOURCE = 'broker-pulsar'

/** A producer as both transports' connections hold it. */
interface OpenProducer {
  close(): Promise<void>
}

/** A subscribed consumer as both transports' connections hold it. */
interface OpenConsumer {
  unsubscribe(): Promise<void>
  pause(): void
  resume(): void
}

/**
 * Keeps a consumer that has just subscribed and hands out its subscription; when the connection
 * closed while it subscribed, unsubscribes it again and says so.
 */
export async function keepConsumer<C extends OpenConsumer>(
  consumers: Set<C>,
  consumer: C,
  connectionClosed: boolean,
): Promise<PausableSubscription> {
  if (connectionClosed) {
    await consumer.unsubscribe()
    throw new ClosedError('connection closed while subscribing', { source: SOURCE })
  }
  consumers.add(consumer)
  return {
    unsubscribe: async () => {
      consumers.delete(consumer)
      await consumer.unsubscribe()
    },
    pause: () => consumer.pause(),
    resume: () => consumer.resume(),
  }
}

/** Closes a connection's producers and consumers together, leaving both collections empty. */
export async function closeEndpoints(
  producers: Map<string, OpenProducer>,
  consumers: Set<OpenConsumer>,
): Promise<void> {
  const toClose = [...producers.values()]
  const toUnsubscribe = [...consumers]
  producers.clear()
  consumers.clear()
  await Promise.all([...toClose.map((p) => p.close()), ...toUnsubscribe.map((c) => c.unsubscribe())])
}
