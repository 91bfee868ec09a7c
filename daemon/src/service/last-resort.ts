import { describeError } from '@iotload/sdk'
import type { Logger } from '../log/logger.ts'

/** What the handlers caught, for /metrics. */
export interface StrayErrors {
  readonly count: number
}

/**
 * Keeps a long-lived daemon (or a CLI run) going through an error nothing caught: a plugin's client library that
 * rejects a promise nobody awaits, or throws from a timer. Node would exit and take every run
 * with it; the daemon logs the error (scrubbed by the logger), counts it, and goes on. Runs that
 * depended on the failed code path end by their own timeouts and report what they measured.
 */
export function installLastResortHandlers(logger: Logger): StrayErrors & { uninstall(): void } {
  let count = 0
  const onRejection = (reason: unknown) => {
    count++
    logger.error('unhandled promise rejection; iotload keeps running', { error: describeError(reason) })
  }
  const onException = (err: Error) => {
    count++
    logger.error('uncaught exception; iotload keeps running', {
      error: describeError(err),
      at: err?.stack?.split('\n').slice(1, 3).join(' | ').trim() ?? '',
    })
  }
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
