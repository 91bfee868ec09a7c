import type { ConnectSnapshot } from '../engine/connect-progress.ts'
import type { LiveStatus } from '../engine/live-status.ts'
import { fmtCount } from './format.ts'

/** One connect-progress line: opened/target, rate, failures by cause, elapsed, estimated remaining. */
export function connectLine(c: ConnectSnapshot): string {
  const pct = c.target > 0 ? ` (${((100 * c.opened) / c.target).toFixed(1)}%)` : ''
  const causes = Object.entries(c.failuresByCause)
    .map(([k, v]) => `${k} ${fmtCount(v)}`)
    .join(', ')
  const failed = c.failed > 0 ? `, failed ${fmtCount(c.failed)} (${causes})` : ''
  const left = c.done
    ? 'done'
    : c.remainingS === null
      ? 'remaining unknown'
      : `~${c.remainingS.toFixed(1)}s left`
  return `[connect] ${fmtCount(c.opened)}/${fmtCount(c.target)} opened${pct}, ${c.ratePerS.toFixed(1)}/s${failed}, ${c.elapsedS.toFixed(1)}s elapsed, ${left}`
}

const CONNECTING = new Set(['pending', 'connecting'])

/**
 * Prints a connect line every `intervalMs` while the run connects (consumer and bridge first, then
 * the fleet), and a last one when the fleet is connected. Returns a function that stops it.
 */
export function watchConnect(
  live: () => LiveStatus,
  write: (line: string) => void,
  intervalMs = 1000,
): () => void {
  const started = performance.now()
  let finalPrinted = false
  const tick = () => {
    const v = live()
    const c = v.connect
    if (!CONNECTING.has(v.status)) {
      if (c && !finalPrinted) write(connectLine(c))
      stop()
      return
    }
    if (c) {
      write(connectLine(c))
      finalPrinted = c.done
    } else
      write(
        `[connect] subscribing the consumer and the bridge, ${((performance.now() - started) / 1000).toFixed(1)}s elapsed`,
      )
  }
  const timer = setInterval(tick, intervalMs)
  timer.unref?.()
  const stop = () => clearInterval(timer)
  return stop
}
