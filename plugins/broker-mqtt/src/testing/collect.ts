import type { InboundMessage, PluginContext } from '@iotload/sdk'

/** A PluginContext whose logger keeps lines, for asserting on them. */
export function testContext(
  clientId: string,
  extra: Partial<PluginContext> = {},
): PluginContext & { lines: string[] } {
  const lines: string[] = []
  const log = (level: string) => (msg: string, fields?: Record<string, unknown>) => {
    lines.push(`${level} ${msg} ${JSON.stringify(fields ?? {})}`)
  }
  return {
    role: 'probe',
    clientId,
    logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
    lines,
    ...extra,
  }
}

/** Collects messages and resolves once `count` arrived (or rejects after `timeoutMs`). */
export function collector(count: number, timeoutMs = 10_000) {
  const received: InboundMessage[] = []
  let done: () => void = () => {}
  const finished = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`received ${received.length}/${count} messages`)),
      timeoutMs,
    )
    done = () => {
      clearTimeout(timer)
      resolve()
    }
  })
  return {
    received,
    finished,
    onMessage(msg: InboundMessage) {
      received.push(msg)
      if (received.length === count) done()
    },
  }
}
