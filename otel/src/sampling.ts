import { reportDiagnostic } from './diagnostics.ts'

/** Which messages get a trace: a fraction, or at most N per second (per run). */
export type Sampling =
  | { kind: 'ratio'; ratio: number }
  | { kind: 'rate'; perSecond: number }
  | { kind: 'off' }

/** Default: at most 10 traced messages a second, whatever the message rate; cost stays flat. */
export const DEFAULT_SAMPLING: Sampling = { kind: 'rate', perSecond: 10 }

/**
 * Parses `IOTLOAD_TRACE_SAMPLE`-style text: `0.001` (ratio), `5/s` (per second), `off`/`0`.
 * Invalid text warns through the diagnostic log and falls back to the default, never throws.
 */
export function parseSampling(text: string | undefined): Sampling {
  if (text === undefined || text.trim() === '') return DEFAULT_SAMPLING
  const s = text.trim().toLowerCase()
  if (s === 'off' || s === 'none') return { kind: 'off' }
  const rate = /^(\d+(?:\.\d+)?)\s*\/\s*s$/.exec(s)
  if (rate) {
    const n = Number(rate[1])
    return n > 0 ? { kind: 'rate', perSecond: n } : { kind: 'off' }
  }
  const r = Number(s)
  if (s !== '' && Number.isFinite(r) && r >= 0 && r <= 1)
    return r === 0 ? { kind: 'off' } : { kind: 'ratio', ratio: r }
  reportDiagnostic('invalid trace sampling; using the default', { value: text, default: '10/s' })
  return DEFAULT_SAMPLING
}

/**
 * Decides per message, on the hot path, whether to trace it: one comparison for unsampled
 * messages. The ratio is applied deterministically (every k-th message), so no random draw.
 */
export class MessageSampler {
  private nextUs = 0
  private readonly intervalUs: number
  private readonly every: number
  private countdown: number

  constructor(readonly sampling: Sampling) {
    this.intervalUs = sampling.kind === 'rate' ? 1e6 / sampling.perSecond : 0
    this.every = sampling.kind === 'ratio' ? Math.max(1, Math.round(1 / sampling.ratio)) : 0
    this.countdown = this.every
  }

  get enabled(): boolean {
    return this.sampling.kind !== 'off'
  }

  /** `nowUs` is the message's send time (µs). */
  sample(nowUs: number): boolean {
    if (this.intervalUs > 0) {
      if (nowUs < this.nextUs) return false
      this.nextUs = nowUs + this.intervalUs
      return true
    }
    if (this.every === 0) return false
    if (--this.countdown > 0) return false
    this.countdown = this.every
    return true
  }
}
