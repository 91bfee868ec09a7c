import type { Context, MiddlewareHandler } from 'hono'

/** Beyond this, an oversized body is not read to the end: the client gets its 413 and a closed socket. */
const MAX_DRAIN_BYTES = 16 * 1024 * 1024
const DRAIN_TIMEOUT_MS = 5000

/**
 * Reads and discards what the client is still sending, for at most DRAIN_TIMEOUT_MS in all: each
 * read races the time left, so a client that stops sending mid-body cannot hold the connection.
 * Returns false when the body was not read to its end (the connection must then be dropped).
 */
async function drain(reader: ReadableStreamDefaultReader<Uint8Array>, already: number): Promise<boolean> {
  let read = already
  const until = Date.now() + DRAIN_TIMEOUT_MS
  let timer: NodeJS.Timeout | undefined
  try {
    while (read < MAX_DRAIN_BYTES) {
      const left = until - Date.now()
      if (left <= 0) return false
      const next = await Promise.race([
        reader.read(),
        new Promise<'timeout'>((r) => {
          timer = setTimeout(() => r('timeout'), left)
        }),
      ])
      clearTimeout(timer)
      if (next === 'timeout') return false
      if (next.done) return true
      read += next.value.length
    }
    return false
  } catch {
    return false
  } finally {
    clearTimeout(timer)
    reader.cancel().catch(() => {})
  }
}

/** The Node socket under a request served by @hono/node-server, if there is one. */
function socketOf(c: Context): { destroy(): void } | undefined {
  return (c.env as { incoming?: { socket?: { destroy(): void } } } | undefined)?.incoming?.socket
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
      if (!(await drain(body.getReader(), 0))) socketOf(c)?.destroy()
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
        if (!(await drain(reader, size))) socketOf(c)?.destroy()
        return tooLarge(c, maxBytes)
      }
      chunks.push(value)
    }
    c.req.raw = new Request(c.req.raw, { body: Buffer.concat(chunks) })
    return next()
  }
}
