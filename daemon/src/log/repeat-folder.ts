/** What a folded window held beyond its first line. */
export interface FoldedLine {
  count: number
  windowMs: number
}

interface Window {
  count: number
  flush: (f: FoldedLine) => void
  timer: NodeJS.Timeout
}

/**
 * Folds repeats of the same log line: the first of a key is written at once, the rest within
 * `windowMs` are counted and reported as one line when the window closes. A window that saw
 * repeats opens the next one, so a steady storm prints one line per window, never one per event.
 */
export class RepeatFolder {
  private readonly windows = new Map<string, Window>()

  constructor(private readonly windowMs: number) {}

  /** True when the caller should write the line now; false when it was counted for later. */
  offer(key: string, flush: (f: FoldedLine) => void): boolean {
    if (this.windowMs <= 0) return true
    const w = this.windows.get(key)
    if (w) {
      w.count++
      w.flush = flush
      return false
    }
    this.open(key, flush)
    return true
  }

  private open(key: string, flush: (f: FoldedLine) => void): void {
    const timer = setTimeout(() => {
      const w = this.windows.get(key)
      this.windows.delete(key)
      if (w && w.count > 0) {
        w.flush({ count: w.count, windowMs: this.windowMs })
        this.open(key, w.flush)
      }
    }, this.windowMs)
    timer.unref()
    this.windows.set(key, { count: 0, flush, timer })
  }
}
