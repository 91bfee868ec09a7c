import type { ConnectionStatus } from '@iotload/sdk'

/**
 * Folds the state of every socket of one iotload connection (a producer per topic, a consumer per
 * subscription) into one status stream: 'disconnected' when the first socket drops, one
 * 'reconnecting' per outage, 'reconnected' when the last dropped socket is back.
 */
export class StatusTracker {
  private readonly down = new Set<object>()
  private announcedReconnecting = false

  constructor(private readonly onStatus?: (status: ConnectionStatus, detail?: string) => void) {}

  /** A socket that had been open was lost. */
  markDown(socket: object, detail: string): void {
    if (this.down.has(socket)) return
    this.down.add(socket)
    if (this.down.size === 1) {
      this.announcedReconnecting = false
      this.onStatus?.('disconnected', detail)
    }
  }

  /** A dropped socket tries to reopen. */
  markReconnecting(): void {
    if (this.down.size === 0 || this.announcedReconnecting) return
    this.announcedReconnecting = true
    this.onStatus?.('reconnecting')
  }

  /** A dropped socket is open again. */
  markUp(socket: object): void {
    if (this.down.delete(socket) && this.down.size === 0) this.onStatus?.('reconnected')
  }

  /** A socket was closed on purpose; it no longer counts as down. */
  forget(socket: object): void {
    this.down.delete(socket)
  }
}
