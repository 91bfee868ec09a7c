import { ConnectionError, describeError } from '@iotload/sdk'

const SOURCE = 'broker-pulsar'
const TLS_ERROR_CODES =
  /^(ERR_SSL_|ERR_TLS_|UNABLE_TO_|SELF_SIGNED|DEPTH_ZERO|CERT_|HOSTNAME_MISMATCH|EPROTO)/
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN'])

/** An HTTP status the WebSocket service answered the upgrade with, instead of 101. */
export class HandshakeRejected extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
  ) {
    super(`HTTP ${status}${reason ? ` ${reason}` : ''}`)
  }
}

/**
 * Maps a failed WebSocket open to a ConnectionError whose kind says why. `where` must already
 * be stripped of any token (see `displayUrl`).
 */
export function toConnectionError(err: unknown, where: string, what = 'WebSocket'): ConnectionError {
  if (err instanceof ConnectionError) return err
  const options = { source: SOURCE, cause: err }
  if (err instanceof HandshakeRejected) {
    // The WebSocket service authenticates and authorizes in the upgrade request.
    if (err.status === 401)
      return new ConnectionError('auth', `${where} refused the credentials (${err.message})`, options)
    if (err.status === 403)
      return new ConnectionError('auth', `${where}: not authorized (${err.message})`, options)
    if (err.status === 404)
      return new ConnectionError(
        'protocol',
        `${where}: no WebSocket API here (${err.message}); is webSocketServiceEnabled=true?`,
        options,
      )
    if (err.status === 409)
      return new ConnectionError(
        'protocol',
        `${where} is busy (${err.message}): an Exclusive/Failover subscription already has its consumer, or the producer name is taken`,
        options,
      )
    return new ConnectionError('protocol', `${where} rejected the WebSocket (${err.message})`, options)
  }
  const code = (err as { code?: unknown }).code
  const detail = describeError(err)
  if (typeof code === 'string' && TLS_ERROR_CODES.test(code))
    return new ConnectionError('tls', `TLS handshake with ${where} failed: ${code} ${detail}`, options)
  if (typeof code === 'string' && UNREACHABLE_CODES.has(code))
    return new ConnectionError('unreachable', `cannot reach ${where}: ${detail}`, options)
  if (code === 'ETIMEDOUT' || /timed out/i.test(detail))
    return new ConnectionError('timeout', `timed out opening ${where}`, options)
  return new ConnectionError('protocol', `${what} to ${where} failed: ${detail}`, options)
}
