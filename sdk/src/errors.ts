/** Stable machine-readable codes for every error iotload raises on purpose. */
export type IotloadErrorCode =
  | 'CONFIG_INVALID'
  | 'CONNECTION_FAILED'
  | 'AUTH_FAILED'
  | 'TLS_FAILED'
  | 'PUBLISH_FAILED'
  | 'PLUGIN_LOAD_FAILED'
  | 'CLOSED'

/** Options shared by every iotload error. */
export interface IotloadErrorOptions {
  /** The underlying error, kept for `--verbose` output. */
  cause?: unknown
  /** Plugin or component that raised it, used as the `[name]` message prefix. */
  source?: string
}

/** Base class: a stable `code`, an optional source prefix and the original cause. */
export class IotloadError extends Error {
  readonly code: IotloadErrorCode
  readonly source: string | undefined

  constructor(code: IotloadErrorCode, message: string, options: IotloadErrorOptions = {}) {
    super(options.source ? `[${options.source}] ${message}` : message, { cause: options.cause })
    this.code = code
    this.source = options.source
    this.name = new.target.name
  }
}

/** A scenario, plugin config or request body is invalid; `path` names the offending field. */
export class ConfigError extends IotloadError {
  readonly path: string

  constructor(path: string, message: string, options: IotloadErrorOptions = {}) {
    super('CONFIG_INVALID', path ? `${path}: ${message}` : message, options)
    this.path = path
  }
}

/** Why a connection attempt failed, so callers can tell a bad password from a dead host. */
export type ConnectionFailureKind = 'unreachable' | 'auth' | 'tls' | 'protocol' | 'timeout'

/** The broker could not be reached or refused the connection. */
export class ConnectionError extends IotloadError {
  readonly kind: ConnectionFailureKind

  constructor(kind: ConnectionFailureKind, message: string, options: IotloadErrorOptions = {}) {
    super(
      kind === 'auth' ? 'AUTH_FAILED' : kind === 'tls' ? 'TLS_FAILED' : 'CONNECTION_FAILED',
      message,
      options,
    )
    this.kind = kind
  }
}

/** A publish was rejected or could not be acknowledged. */
export class PublishError extends IotloadError {
  constructor(message: string, options: IotloadErrorOptions = {}) {
    super('PUBLISH_FAILED', message, options)
  }
}

/** A plugin package is missing, or does not export a valid plugin. */
export class PluginLoadError extends IotloadError {
  constructor(message: string, options: IotloadErrorOptions = {}) {
    super('PLUGIN_LOAD_FAILED', message, options)
  }
}

/** An operation was attempted on a connection that is already closed. */
export class ClosedError extends IotloadError {
  constructor(message: string, options: IotloadErrorOptions = {}) {
    super('CLOSED', message, options)
  }
}

/** Best-effort human text for an unknown thrown value. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message || err.name
  return String(err)
}
