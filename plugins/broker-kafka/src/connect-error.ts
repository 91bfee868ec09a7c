import { ConnectionError, type ConnectionFailureKind, describeError } from '@iotload/sdk'

const SOURCE = 'broker-kafka'
const TLS_CODES = /^(ERR_SSL_|ERR_TLS_|UNABLE_TO_|SELF_SIGNED|DEPTH_ZERO|CERT_|HOSTNAME_MISMATCH)/
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN'])

interface ErrorLike {
  name?: unknown
  code?: unknown
  type?: unknown
  message?: unknown
  cause?: unknown
  originalError?: unknown
}

/** The error and the causes kafkajs wraps it in (retries exceeded → connection error → socket error). */
function chain(err: unknown): ErrorLike[] {
  const out: ErrorLike[] = []
  let e: unknown = err
  for (let depth = 0; e && typeof e === 'object' && depth < 8; depth++) {
    const like = e as ErrorLike
    out.push(like)
    e = like.cause ?? like.originalError
  }
  return out
}

/** Which kind of connect failure a kafkajs error stands for. */
export function classifyKafkaError(err: unknown): ConnectionFailureKind {
  const all = chain(err)
  const has = (test: (e: ErrorLike) => boolean) => all.some(test)
  if (
    has(
      (e) =>
        e.name === 'KafkaJSSASLAuthenticationError' ||
        e.type === 'SASL_AUTHENTICATION_FAILED' ||
        e.type === 'TOPIC_AUTHORIZATION_FAILED' ||
        e.type === 'CLUSTER_AUTHORIZATION_FAILED' ||
        e.type === 'UNSUPPORTED_SASL_MECHANISM',
    )
  )
    return 'auth'
  if (has((e) => typeof e.code === 'string' && TLS_CODES.test(e.code))) return 'tls'
  if (has((e) => typeof e.message === 'string' && /\b(ssl|tls)\b|certificate/i.test(e.message))) return 'tls'
  if (has((e) => typeof e.code === 'string' && UNREACHABLE_CODES.has(e.code))) return 'unreachable'
  if (has((e) => typeof e.message === 'string' && /timeout|timed out/i.test(e.message))) return 'timeout'
  return 'protocol'
}

const LEAD: Record<ConnectionFailureKind, string> = {
  auth: 'refused the credentials',
  tls: 'TLS handshake failed',
  unreachable: 'is unreachable',
  timeout: 'timed out',
  protocol: 'connection failed',
}

/** Maps a kafkajs connect failure to a ConnectionError naming the broker (never the credentials). */
export function toConnectionError(err: unknown, where: string): ConnectionError {
  const kind = classifyKafkaError(err)
  const detail = chain(err)
    .map((e) => (typeof e.message === 'string' ? e.message : describeError(e)))
    .filter((m, i, all) => m && all.indexOf(m) === i)
    .join(': ')
  return new ConnectionError(kind, `${where} ${LEAD[kind]}: ${detail}`, { source: SOURCE, cause: err })
}
