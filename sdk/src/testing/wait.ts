/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/**
 * Polls `predicate` every `intervalMs` until it holds; rejects after `timeoutMs` with a message
 * naming `what` (a function is called only then, so it can report the state at the deadline).
 *
 * @example
 * await waitFor(() => inbox.messages.length === 10, 5000, '10 messages')
 * await waitFor(() => got.length === 51, 30_000, () => `51 messages, have ${got.length}`)
 */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what: string | (() => string) = 'condition',
  intervalMs = 10,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await predicate())) {
    if (Date.now() >= deadline) {
      const label = typeof what === 'string' ? what : what()
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${label}`)
    }
    await sleep(intervalMs)
  }
}

/** Rejects after `ms` unless `promise` settles first; the timer never outlives the race. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}
