import type { Context, MiddlewareHandler } from 'hono'

/** Beyond this, an oversized body is not read to the end: the client gets its 413 and a closed socket. */
const MAX_DRAIN_BYTES = 16 * 1024 * 1024
const DRAIN_TIMEOUT_MS = 5000

async function drain(reader: ReadableStreamDefaultReader<Uint8Array>, already: number): Promise<void> {
  let read = already
  const until = Date.now() + DRAIN_TIMEOUT_MS
  try {
    while (read < MAX_DRAIN_BYTES && Date.now() < until) {
      const { done, value } = await reader.read()
      if (done) return
      read += value.length
    }
  } catch {}
  await reader.cancel().catch(() => {})
}

function tooLarge(c: Context, maxBytes: number): Response {
  // The connection ends after this answer; the body was read first, so closing it sends FIN, not a
  // reset that would make the client lose the 413.
  c.header('Connection', 'close')
  return c.json(
    { error: { code: 'BODY_TOO_LARGE', message: `the request body exceeds ${maxBytes} bytes` } },
    413,
  )
}

/**
 * Refuses request bodies over `maxBytes` with 413 and `Connection: close`. Unlike a plain limit it
 * reads (and discards) what the client is still sending first, so the client sees the 413 instead
 * of a connection reset, also on a kept-alive connection.
 */
export function limitBody(maxBytes: number): MiddlewareHandler {
  return async (c, next) => {
    const body = c.req.raw.body
    if (!body) return next()
    const declared = c.req.header('content-length')
    const chunked = c.req.header('transfer-encoding') !== undefined
    if (declared !== undefined && !chunked) {
      if (Number(declared) <= maxBytes) return next()
      await drain(body.getReader(), 0)
      return tooLarge(c, maxBytes)
    }
    const reader = body.getReader()
    const chunks: Uint8Array[] = []
    let size = 0
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      size += value.length
      if (size > maxBytes) {
        await drain(reader, size)
        return tooLarge(c, maxBytes)
      }
      chunks.push(value)
    }
    c.req.raw = new Request(c.req.raw, { body: Buffer.concat(chunks) })
    return next()
  }
}
