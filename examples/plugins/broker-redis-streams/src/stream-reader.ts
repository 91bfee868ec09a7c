import type { InboundMessage, PluginLogger } from '@iotload/sdk'
import type { Redis } from 'ioredis'

/** Field names of an entry: the payload, the ordering key, and one field per header. */
export const FIELD_PAYLOAD = 'p'
export const FIELD_KEY = 'k'
export const HEADER_PREFIX = 'h:'

/** The `XADD` field/value list of a message. */
export function entryFields(
  payload: Uint8Array,
  key?: string,
  headers?: Record<string, string>,
): Array<string | Buffer> {
  const fields: Array<string | Buffer> = [
    FIELD_PAYLOAD,
    Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength),
  ]
  if (key !== undefined) fields.push(FIELD_KEY, key)
  if (headers)
    for (const [name, value] of Object.entries(headers)) fields.push(`${HEADER_PREFIX}${name}`, value)
  return fields
}

/** An entry's fields back into a message (RESP arrays of Buffers). */
export function entryMessage(topic: string, fields: Buffer[]): InboundMessage {
  let payload: Uint8Array = new Uint8Array(0)
  let headers: Record<string, string> | undefined
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i]!.toString('utf8')
    const value = fields[i + 1]!
    if (name === FIELD_PAYLOAD) payload = new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
    else if (name.startsWith(HEADER_PREFIX)) {
      headers ??= {}
      headers[name.slice(HEADER_PREFIX.length)] = value.toString('utf8')
    }
  }
  return headers ? { topic, payload, headers } : { topic, payload }
}

type StreamReply = Array<[Buffer, Array<[Buffer, Buffer[]]>]> | null

/** Options of one reading loop. */
export interface StreamReaderOptions {
  /** A connection of its own: XREAD … BLOCK holds it. */
  reader: Redis
  /** Connection for XACK (never blocked). */
  main: Redis
  key: string
  topic: string
  /** Consumer group and consumer name; absent = fan-out with plain XREAD. */
  group?: { name: string; consumer: string }
  blockMs: number
  batch: number
  logger: PluginLogger
  onMessage: (msg: InboundMessage) => void
}

/**
 * Reads one stream until stopped. With a group, XREADGROUP `>` and XACK after delivery (the group
 * shares the entries); without, plain XREAD from the last entry seen (every subscriber gets all).
 */
export class StreamReader {
  private stopped = false
  private readonly done: Promise<void>

  /** `startId` is where fan-out reading starts (the stream's last id when subscribing). */
  constructor(
    private readonly o: StreamReaderOptions,
    private lastId: string,
  ) {
    this.done = this.loop()
  }

  private async loop(): Promise<void> {
    const { reader, main, key, group, blockMs, batch } = this.o
    while (!this.stopped) {
      try {
        const reply = (
          group
            ? await reader.callBuffer(
                'XREADGROUP',
                'GROUP',
                group.name,
                group.consumer,
                'COUNT',
                batch,
                'BLOCK',
                blockMs,
                'STREAMS',
                key,
                '>',
              )
            : await reader.callBuffer('XREAD', 'COUNT', batch, 'BLOCK', blockMs, 'STREAMS', key, this.lastId)
        ) as StreamReply
        if (!reply || this.stopped) continue
        const ids: string[] = []
        for (const [, entries] of reply) {
          for (const [id, fields] of entries) {
            this.lastId = id.toString('utf8')
            ids.push(this.lastId)
            this.o.onMessage(entryMessage(this.o.topic, fields))
          }
        }
        if (group && ids.length > 0) await main.call('XACK', key, group.name, ...ids)
      } catch (err) {
        if (this.stopped) break
        this.o.logger.warn('stream read failed; retrying', { stream: key, error: (err as Error).message })
        await new Promise((r) => setTimeout(r, 200))
      }
    }
  }

  /** Stops reading and releases the reader connection; idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return this.done
    this.stopped = true
    this.o.reader.disconnect()
    await this.done
  }
}
