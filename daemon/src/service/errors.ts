/** Why a service call was refused; the API maps each kind to one HTTP status. */
export type ServiceErrorKind =
  | 'not-found'
  | 'conflict'
  | 'busy'
  | 'unavailable'
  | 'upstream'
  | 'upstream-timeout'

/**
 * A refusal by the run manager or the plugin installer that is not a scenario error: unknown id,
 * wrong state, concurrency limit, shutting down, npm/registry trouble. `code` is stable.
 */
export class ServiceError extends Error {
  constructor(
    readonly kind: ServiceErrorKind,
    readonly code: string,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options)
    this.name = 'ServiceError'
  }
}
