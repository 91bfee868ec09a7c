import { describeError } from '@iotload/sdk'
import type { Logger } from '../log/logger.ts'

/** What the handlers caught, for /metrics. */
export interface StrayErrors {
  readonly count: number
}

/** Stray errors logged per minute at most; the rest are only counted. */
const LOGGED_PER_MINUTE = 20

/**
 * Keeps a long-lived daemon (or a CLI run) going through an error nothing caught: a plugin's
 * client library that rejects a promise nobody awaits, or throws from a timer. Node would exit and
 * take every run with it; instead the error is logged (scrubbed by the logger), counted, and the
 * process goes on. Logging is capped per minute, so an error the logging itself causes (EPIPE on
 * a closed stderr, say) cannot turn into a loop that floods or spins.
 */
export function installLastResortHandlers(logger: Logger): StrayErrors & { uninstall(): void } {
  let count = 0
  let windowStart = 0
  let loggedInWindow = 0
  let logging = false
  const report = (message: string, fields: Record<string, string>) => {
    count++
    const now = Date.now()
    if (now - windowStart >= 60_000) {
      windowStart = now
      loggedInWindow = 0
    }
    if (logging || loggedInWindow >= LOGGED_PER_MINUTE) return
    loggedInWindow++
    logging = true
    try {
      logger.error(message, fields)
    } catch {
      // Nowhere left to report it; it is counted.
    } finally {
      logging = false
    }
  }
  const onRejection = (reason: unknown) =>
    report('unhandled promise rejection; iotload keeps running', { error: describeError(reason) })
  const onException = (err: Error) =>
    report('uncaught exception; iotload keeps running', {
      error: describeError(err),
      at: err?.stack?.split('\n').slice(1, 3).join(' | ').trim() ?? '',
    })
  process.on('unhandledRejection', onRejection)
  process.on('uncaughtException', onException)
  return {
    get count() {
      return count
    },
    uninstall() {
      process.off('unhandledRejection', onRejection)
      process.off('uncaughtException', onException)
    },
  }
}
