import type { Channel, ChannelModel } from 'amqplib'

/** Waits for `promise` (its rejection ignored) at most `ms`; true when it settled in time. */
export async function settleWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms)
  })
  try {
    return await Promise.race([
      promise.then(
        () => true,
        () => true,
      ),
      late,
    ])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Closes a channel without trusting the broker to answer: amqplib's `close()` waits for
 * `channel.close-ok`, which never comes once the socket has died unnoticed, so the channel's own
 * `close` event (fired when the connection goes) or `ms` ends the wait as well.
 */
export function closeChannel(ch: Channel, ms: number): Promise<boolean> {
  const closed = new Promise<void>((resolve) => ch.once('close', () => resolve()))
  return settleWithin(Promise.race([ch.close(), closed]), ms)
}

/**
 * Tears down a connection's socket at once. amqplib only `end()`s it after a heartbeat timeout,
 * which a silent peer never completes, and `close()` waits for `connection.close-ok`; destroying
 * the socket releases the handle either way. `stream` is amqplib's internal socket field.
 */
export function destroySocket(model: ChannelModel): void {
  const stream = (model.connection as unknown as { stream?: { destroy(): void } }).stream
  stream?.destroy()
}
