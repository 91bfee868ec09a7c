/** Resource kinds that betray a leaked connection or timer. */
const TRACKED = ['TCPSocketWrap', 'TLSSocketWrap', 'TLSWrap', 'Timeout'] as const

/** Counts of the tracked active resources, by kind. */
export type HandleCounts = Record<(typeof TRACKED)[number], number>

/** Snapshot of the process's sockets and timers, from `process.getActiveResourcesInfo()`. */
export function handleCounts(): HandleCounts {
  const counts: HandleCounts = { TCPSocketWrap: 0, TLSSocketWrap: 0, TLSWrap: 0, Timeout: 0 }
  for (const kind of process.getActiveResourcesInfo()) {
    if (kind in counts) counts[kind as keyof HandleCounts]++
  }
  return counts
}

/** Kinds whose count is above the baseline, with both figures; empty when nothing leaked. */
export function handlesAbove(baseline: HandleCounts, now: HandleCounts = handleCounts()): string[] {
  const out: string[] = []
  for (const kind of TRACKED) {
    if (now[kind] > baseline[kind]) out.push(`${kind}: ${now[kind]} > baseline ${baseline[kind]}`)
  }
  return out
}

/**
 * Waits up to `settleMs` for the tracked handles to fall back to `baseline`; returns what is still above.
 * Sockets close asynchronously after `destroy()`, hence the polling.
 */
export async function settleHandles(baseline: HandleCounts, settleMs = 2000): Promise<string[]> {
  const deadline = Date.now() + settleMs
  for (;;) {
    const above = handlesAbove(baseline)
    if (above.length === 0 || Date.now() >= deadline) return above
    await new Promise((r) => setTimeout(r, 50))
  }
}
