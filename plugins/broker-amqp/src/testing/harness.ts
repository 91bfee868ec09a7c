import type { ConnectionStatus, InboundMessage, PluginContext, PluginLogger } from '@iotload/sdk'

/** A logger that keeps every line, so tests can assert no secret was ever logged. */
export function memoryLogger(): PluginLogger & { lines: string[] } {
  const lines: string[] = []
  const log = (level: string) => (msg: string, fields?: Record<string, unknown>) => {
    lines.push(`${level} ${msg} ${fields ? JSON.stringify(fields) : ''}`)
  }
  return { lines, debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') }
}

/** A plugin context whose status changes are recorded in order. */
export function testContext(
  clientId: string,
  credentials?: PluginContext['credentials'],
): PluginContext & { statuses: ConnectionStatus[]; logger: ReturnType<typeof memoryLogger> } {
  const statuses: ConnectionStatus[] = []
  const ctx = {
    role: 'probe' as const,
    clientId,
    logger: memoryLogger(),
    statuses,
    onStatus: (s: ConnectionStatus) => {
      statuses.push(s)
    },
  }
  return credentials ? { ...ctx, credentials } : ctx
}

/** Collects messages and resolves once `count` arrived (or rejects after `timeoutMs`). */
export function collector(count: number, timeoutMs = 10_000) {
  const messages: InboundMessage[] = []
  let done: () => void = () => {}
  const settled = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`expected ${count} messages, got ${messages.length}`)),
      timeoutMs,
    )
    done = () => {
      clearTimeout(timer)
      resolve()
    }
  })
  return {
    messages,
    onMessage: (m: InboundMessage) => {
      messages.push(m)
      if (messages.length === count) done()
    },
    settled,
  }
}

/** Polls `cond` until true or `timeoutMs` passed. */
export async function waitFor(cond: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))
