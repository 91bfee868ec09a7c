import type { PluginLogger } from '../plugin.ts'

/** A plugin logger that keeps every line so the kit can check what plugins write. */
export interface CollectingLogger extends PluginLogger {
  readonly lines: string[]
}

/** Creates a logger that records `level msg fields-as-JSON` per call. */
export function createCollectingLogger(): CollectingLogger {
  const lines: string[] = []
  const record = (level: string) => (msg: string, fields?: Record<string, unknown>) => {
    let extra = ''
    if (fields !== undefined) {
      try {
        extra = ' ' + JSON.stringify(fields, (_k, v) => (v instanceof Error ? `${v.name}: ${v.message}` : v))
      } catch {
        extra = ' ' + String(fields)
      }
    }
    lines.push(`${level} ${msg}${extra}`)
  }
  return { lines, debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') }
}

/** Lines (or texts) that contain any of `secrets`, for an assertion message. */
export function leakedSecrets(texts: readonly string[], secrets: readonly string[]): string[] {
  const out: string[] = []
  for (const text of texts) {
    for (const secret of secrets) {
      if (text.includes(secret)) out.push(text.replaceAll(secret, '<SECRET>'))
    }
  }
  return out
}
