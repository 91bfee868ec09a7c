import { fileLimitCause } from './fd-limit.ts'
import { ConnectionError } from '@iotload/sdk'

/** Where the connect phase stands, for progress lines and the live view. */
export interface ConnectSnapshot {
  /** Connections to open. */
  target: number
  opened: number
  failed: number
  /** Failures per cause: `unreachable`, `auth`, `tls`, `protocol`, `timeout`, or an error code. */
  failuresByCause: Record<string, number>
  elapsedS: number
  /** Connections settled (opened or failed) per second so far. */
  ratePerS: number
  /** At the rate so far, until every connection settled; null before the first one did. */
  remainingS: number | null
  /** Every connection settled. */
  done: boolean
}

/** Why a connection failed, in a word. */
export function failureCause(err: unknown): string {
  const files = fileLimitCause(err)
  if (files) return files
  if (err instanceof ConnectionError) return err.kind
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' && code.length <= 40 ? code : 'error'
}

/** Counts a fleet's connections as they open or fail (updated by `openConnections`). */
export class ConnectProgress {
  target = 0
  opened = 0
  failed = 0
  private readonly causes: Record<string, number> = {}
  private startedMs = 0
  private endedMs: number | undefined

  constructor(private readonly nowMs: () => number = () => performance.now()) {}

  /** The phase starts: `target` connections to open. */
  begin(target: number): void {
    this.target = target
    this.startedMs = this.nowMs()
  }

  /** One connection opened. */
  onOpened(): void {
    this.opened++
    this.settleCheck()
  }

  /** One connection failed, for `cause` (see `failureCause`). */
  onFailed(err: unknown): void {
    this.failed++
    const cause = failureCause(err)
    this.causes[cause] = (this.causes[cause] ?? 0) + 1
    this.settleCheck()
  }

  /** Whether the phase has begun. */
  get started(): boolean {
    return this.startedMs > 0
  }

  snapshot(): ConnectSnapshot {
    const settled = this.opened + this.failed
    const elapsedS = this.started ? ((this.endedMs ?? this.nowMs()) - this.startedMs) / 1000 : 0
    const ratePerS = elapsedS > 0 ? settled / elapsedS : 0
    const left = this.target - settled
    return {
      target: this.target,
      opened: this.opened,
      failed: this.failed,
      failuresByCause: { ...this.causes },
      elapsedS: Math.round(elapsedS * 10) / 10,
      ratePerS: Math.round(ratePerS * 10) / 10,
      remainingS: left <= 0 ? 0 : ratePerS > 0 ? Math.round((left / ratePerS) * 10) / 10 : null,
      done: this.started && left <= 0,
    }
  }

  private settleCheck(): void {
    if (this.opened + this.failed >= this.target) this.endedMs ??= this.nowMs()
  }
}
