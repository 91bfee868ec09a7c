import type { QoS } from '../messages.ts'
import type {
  BrokerConnection,
  BrokerPlugin,
  ConnectionCredentials,
  ConnectionRole,
  ConnectionStatus,
} from '../plugin.ts'
import { type CollectingLogger, createCollectingLogger } from '../testing/collecting-logger.ts'
import { withTimeout } from '../testing/wait.ts'

/** One connection opened by the kit, with what the plugin reported on it. */
export interface OpenedConnection {
  readonly conn: BrokerConnection
  readonly clientId: string
  /** Every `ctx.onStatus` call, in order. */
  readonly statuses: ConnectionStatus[]
}

/** Options for `Harness.open`. */
export interface OpenOptions {
  role: ConnectionRole
  /** Raw config; parsed with the plugin's schema. */
  config: unknown
  credentials?: ConnectionCredentials
}

/**
 * Opens connections for one test run, shares one collecting logger, and closes whatever a failed
 * test left open.
 */
export class Harness {
  readonly logger: CollectingLogger = createCollectingLogger()
  private readonly opened: OpenedConnection[] = []
  private seq = 0

  constructor(private readonly plugin: BrokerPlugin) {}

  /** Parses `config` with the plugin schema and connects; the clientId is unique per call. */
  async open(options: OpenOptions): Promise<OpenedConnection> {
    const config = this.plugin.configSchema.parse(options.config)
    const clientId = `iotload-conf-${process.pid}-${Date.now().toString(36)}-${++this.seq}`
    const statuses: ConnectionStatus[] = []
    const conn = await this.plugin.connect(config, {
      role: options.role,
      clientId,
      credentials: options.credentials,
      logger: this.logger,
      onStatus: (status) => statuses.push(status),
    })
    const opened = { conn, clientId, statuses }
    this.opened.push(opened)
    return opened
  }

  /** Closes every connection this harness opened; errors are swallowed (close is also tested on its own). */
  async closeAll(): Promise<void> {
    const all = this.opened.splice(0)
    // Bounded, so a close() that hangs cannot stall the remaining tests (the close test reports it).
    await Promise.all(all.map((o) => withTimeout(o.conn.close(), 10_000, 'close()').catch(() => undefined)))
  }
}

/**
 * A payload carrying a 32-bit sequence number and `size - 4` bytes that cover every byte value,
 * so that any text re-encoding or truncation by a plugin shows up.
 */
export function makePayload(seq: number, size = 64): Uint8Array {
  const bytes = new Uint8Array(Math.max(size, 4))
  new DataView(bytes.buffer).setUint32(0, seq)
  for (let i = 4; i < bytes.length; i++) bytes[i] = (seq * 31 + i * 7) & 0xff
  return bytes
}

/** The sequence number `makePayload` wrote, or -1 when the payload is too short. */
export function payloadSeq(payload: Uint8Array): number {
  if (payload.byteLength < 4) return -1
  return new DataView(payload.buffer, payload.byteOffset, payload.byteLength).getUint32(0)
}

/** Whether two byte arrays are equal. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false
  return true
}

/** Publishes `seqs` in order with at most `window` publishes in flight, like the daemon's pipelined producer. */
export async function publishSeqs(
  conn: BrokerConnection,
  topic: string,
  seqs: number[],
  opts: { qos: QoS; key?: string; window?: number },
): Promise<void> {
  const window = opts.window ?? 50
  let inFlight: Promise<void>[] = []
  for (const seq of seqs) {
    inFlight.push(conn.publish(topic, { payload: makePayload(seq), qos: opts.qos, key: opts.key }))
    if (inFlight.length >= window) {
      await Promise.all(inFlight)
      inFlight = []
    }
  }
  await Promise.all(inFlight)
}

/** Whether `err` is a ConnectionError of `kind` (checked structurally, so two copies of the sdk still match). */
export function isConnectionErrorOfKind(err: unknown, kind: string): boolean {
  return (
    err instanceof Error &&
    err.name === 'ConnectionError' &&
    (err as Error & { kind?: unknown }).kind === kind
  )
}

/** Short description of a thrown value for assertion messages. */
export function describeThrown(err: unknown): string {
  if (err instanceof Error) {
    const kind = (err as Error & { kind?: unknown }).kind
    return `${err.name}${kind ? `(${String(kind)})` : ''}: ${err.message}`
  }
  return String(err)
}
