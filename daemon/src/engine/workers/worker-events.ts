import { publishErrorCause } from '../fault-timeline.ts'

/**
 * What a worker saw that the main thread's fault timeline measures recovery from: connection
 * changes and failed publishes, with their times. Posted with each second.
 */
export interface WorkerEvents {
  connections: Array<{ status: string; tUs: number }>
  /** Failed publishes, grouped by cause and millisecond: `n` of them from `tUs` on. */
  publishErrors: Array<{ cause: string; tUs: number; n: number }>
}

/** A worker's events since its last post; an outage's flood of failed publishes stays bounded. */
export class WorkerEventLog {
  private connections: WorkerEvents['connections'] = []
  private errors = new Map<string, WorkerEvents['publishErrors'][number]>()

  onConnectionStatus(status: string, tUs: number): void {
    if (status === 'disconnected' || status === 'reconnected') this.connections.push({ status, tUs })
  }

  onPublishFailure(err: unknown, sentUs: number): void {
    const cause = publishErrorCause(err)
    const key = `${Math.floor(sentUs / 1000)} ${cause}`
    const e = this.errors.get(key)
    if (e) e.n++
    else this.errors.set(key, { cause, tUs: sentUs, n: 1 })
  }

  /** The events since the last take, or undefined when there were none. */
  take(): WorkerEvents | undefined {
    if (this.connections.length === 0 && this.errors.size === 0) return undefined
    const taken = { connections: this.connections, publishErrors: [...this.errors.values()] }
    this.connections = []
    this.errors = new Map()
    return taken
  }
}
