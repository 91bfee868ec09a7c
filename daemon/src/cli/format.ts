/** µs → a compact human string (`412µs`, `3.21ms`, `1.50s`). */
export function fmtLatency(us: number | undefined): string {
  if (us === undefined) return '-'
  if (us < 1000) return `${Math.round(us)}µs`
  if (us < 1_000_000) return `${(us / 1000).toFixed(2)}ms`
  return `${(us / 1_000_000).toFixed(2)}s`
}

/** Thousands separators, `-` for undefined. */
export function fmtCount(n: number | undefined): string {
  return n === undefined ? '-' : n.toLocaleString('en-US')
}

/** Renders rows as a left-aligned text table. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n')
}
