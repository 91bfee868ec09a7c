import { ConnectionError, describeError } from '@iotload/sdk'

const AUTH_REASON_CODES = new Set([4, 5, 134, 135])
const TLS_ERROR_CODES = /^(ERR_SSL_|ERR_TLS_|UNABLE_TO_|SELF_SIGNED|DEPTH_ZERO|CERT_|HOSTNAME_MISMATCH)/

/** Strips user:password from a broker URL so it can appear in messages. */
export function safeUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//')
}

/** Maps an mqtt.js connect failure to a ConnectionError whose kind says why. */
export function toConnectionError(err: unknown, url: string): ConnectionError {
  const e = err as { code?: unknown; message?: string }
  const where = safeUrl(url)
  const detail = describeError(err)
  if (typeof e.code === 'number' && AUTH_REASON_CODES.has(e.code)) {
    return new ConnectionError('auth', `${where} refused the credentials: ${detail}`, {
      source: 'broker-mqtt',
      cause: err,
    })
  }
  if (typeof e.code === 'string' && TLS_ERROR_CODES.test(e.code)) {
    return new ConnectionError('tls', `TLS handshake with ${where} failed: ${e.code} ${detail}`, {
      source: 'broker-mqtt',
      cause: err,
    })
  }
  if (e.code === 'ECONNREFUSED' || e.code === 'ENOTFOUND' || e.code === 'EHOSTUNREACH') {
    return new ConnectionError('unreachable', `cannot reach ${where}: ${detail}`, {
      source: 'broker-mqtt',
      cause: err,
    })
  }
  if (e.code === 'ETIMEDOUT') {
    return new ConnectionError('timeout', `timed out connecting to ${where}`, {
      source: 'broker-mqtt',
      cause: err,
    })
  }
  return new ConnectionError('protocol', `connection to ${where} failed: ${detail}`, {
    source: 'broker-mqtt',
    cause: err,
  })
}
