import {
  ClosedError,
  ConnectionError,
  type ConnectionFailureKind,
  describeError,
  PublishError,
} from '@iotload/sdk'

/** Prefix of every error this plugin raises. */
export const SOURCE = 'broker-nats'

/** Node and OpenSSL codes of certificate and handshake failures. */
const TLS_CODE = /CERT|SELF_SIGNED|UNABLE_TO_|ERR_TLS|ERR_SSL|HOSTNAME|ALTNAME/

/** Walks `cause` links, so a wrapped error is classified by its root. */
function* chain(err: unknown): Generator<Error & { code?: unknown }> {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 6; e = e.cause, depth++) yield e
}

/** Classifies a connect failure of the NATS client. */
export function failureKind(err: unknown): ConnectionFailureKind {
  for (const e of chain(err)) {
    if (e.name === 'AuthorizationError' || e.name === 'UserAuthenticationExpiredError') return 'auth'
    if (typeof e.code === 'string' && TLS_CODE.test(e.code)) return 'tls'
    if (e.name === 'TimeoutError' || e.code === 'ETIMEDOUT') return 'timeout'
    if (e.code === 'ECONNREFUSED' || e.code === 'ENOTFOUND' || e.code === 'EHOSTUNREACH') return 'unreachable'
  }
  const first = chain(err).next().value
  if (first?.name === 'ConnectionError') return 'unreachable'
  return 'protocol'
}

/** Servers named without user info, so an error never repeats a `nats://user:pass@` secret. */
export function displayServers(servers: string[]): string {
  return servers.map((s) => s.replace(/\/\/[^@/]*@/, '//')).join(', ')
}

const VERB: Record<ConnectionFailureKind, string> = {
  auth: 'authentication failed at',
  tls: 'TLS handshake failed with',
  timeout: 'timed out connecting to',
  unreachable: 'cannot reach',
  protocol: 'cannot connect to',
}

/** Wraps a connect failure as an sdk `ConnectionError` naming the server (never the credentials). */
export function toConnectionError(err: unknown, servers: string[]): ConnectionError {
  const kind = failureKind(err)
  return new ConnectionError(kind, `${VERB[kind]} ${displayServers(servers)}: ${describeError(err)}`, {
    source: SOURCE,
    cause: err,
  })
}

/** Wraps a publish failure: `ClosedError` once the connection is closed, `PublishError` otherwise. */
export function toPublishError(err: unknown, subject: string): Error {
  if (err instanceof ClosedError || err instanceof PublishError) return err
  for (const e of chain(err)) {
    if (e.name === 'ClosedConnectionError' || e.name === 'DrainingConnectionError') {
      return new ClosedError('connection is closed', { source: SOURCE, cause: err })
    }
  }
  return new PublishError(`publish to '${subject}' failed: ${describeError(err)}`, {
    source: SOURCE,
    cause: err,
  })
}
