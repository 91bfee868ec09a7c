import { ConnectionError, describeError } from '@iotload/sdk'

const SOURCE = 'broker-amqp'
const TLS_ERROR_CODES = /^(ERR_SSL_|ERR_TLS_|UNABLE_TO_|SELF_SIGNED|DEPTH_ZERO|CERT_|HOSTNAME_MISMATCH)/
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN'])

/** Strips any user:password from a broker URL so it can appear in messages. */
export function safeUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//')
}

/**
 * Maps an amqplib connect failure to a ConnectionError whose kind says why. RabbitMQ refuses
 * bad credentials with `connection.close` 403 ACCESS_REFUSED during the handshake (amqplib
 * advertises `authentication_failure_close`), and a vhost the user may not use with 530.
 */
export function toConnectionError(err: unknown, url: string): ConnectionError {
  const e = err as { code?: unknown }
  const where = safeUrl(url)
  const detail = describeError(err)
  if (/\b403\b|ACCESS[-_]REFUSED/.test(detail) || /access to vhost .* refused/i.test(detail)) {
    return new ConnectionError('auth', `${where} refused the credentials: ${detail}`, {
      source: SOURCE,
      cause: err,
    })
  }
  const code = typeof e.code === 'string' ? e.code : ''
  if (TLS_ERROR_CODES.test(code) || /\b(SSL|TLS)\b|certificate/i.test(detail)) {
    return new ConnectionError(
      'tls',
      `TLS handshake with ${where} failed: ${code ? `${code} ` : ''}${detail}`,
      {
        source: SOURCE,
        cause: err,
      },
    )
  }
  if (UNREACHABLE_CODES.has(code)) {
    return new ConnectionError('unreachable', `cannot reach ${where}: ${detail}`, {
      source: SOURCE,
      cause: err,
    })
  }
  if (code === 'ETIMEDOUT' || /ETIMEDOUT|timed out/i.test(detail)) {
    return new ConnectionError('timeout', `timed out connecting to ${where}`, { source: SOURCE, cause: err })
  }
  return new ConnectionError('protocol', `connection to ${where} failed: ${detail}`, {
    source: SOURCE,
    cause: err,
  })
}
