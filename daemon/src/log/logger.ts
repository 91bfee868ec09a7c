import type { PluginLogger } from '@iotload/sdk'
import { secrets } from './secret-registry.ts'
import { type FoldedLine, RepeatFolder } from './repeat-folder.ts'

/** Log levels in increasing severity. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 }

/** Longest string a log line carries per message or field; a 900 KB run name must not be logged whole. */
export const MAX_LOGGED_CHARS = 200

/** Options for `createLogger`. */
export interface LoggerOptions {
  /** @default 'info' (or IOTLOAD_LOG_LEVEL) */
  level?: LogLevel
  /** `json` writes one object per line, for collectors. @default 'text' */
  format?: 'text' | 'json'
  /** @default process.stderr.write */
  write?: (line: string) => void
  /** Window within which repeated warnings and errors are folded into one line with a count, ms. @default 1000 */
  foldMs?: number
}

/** A logger that scrubs every registered secret from messages and fields before writing. */
export interface Logger extends PluginLogger {
  child(bindings: Record<string, unknown>): Logger
}

function envLevel(): LogLevel | undefined {
  const v = process.env.IOTLOAD_LOG_LEVEL
  return v === 'debug' || v === 'info' || v === 'warn' || v === 'error' ? v : undefined
}

/** Cuts a string to MAX_LOGGED_CHARS, saying how much was left out. */
export function capString(s: string): string {
  return s.length <= MAX_LOGGED_CHARS
    ? s
    : `${s.slice(0, MAX_LOGGED_CHARS)}…(+${s.length - MAX_LOGGED_CHARS} chars)`
}

function capValue(v: unknown): unknown {
  if (typeof v === 'string') return capString(v)
  if (v === null || typeof v !== 'object') return v
  const text = JSON.stringify(v) ?? ''
  return text.length <= MAX_LOGGED_CHARS ? v : capString(text)
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROLS = /[\u0000-\u001f\u007f]/g

function escapeControls(s: string): string {
  return s.replace(CONTROLS, (c) =>
    c === '\n'
      ? '\\n'
      : c === '\r'
        ? '\\r'
        : c === '\t'
          ? '\\t'
          : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  )
}

/** Creates the daemon's logger. Telemetry-style config: a bad IOTLOAD_LOG_LEVEL falls back to info. */
export function createLogger(options: LoggerOptions = {}, bindings: Record<string, unknown> = {}): Logger {
  return makeLogger(options, bindings, new RepeatFolder(options.foldMs ?? 1000))
}

function makeLogger(options: LoggerOptions, bindings: Record<string, unknown>, folder: RepeatFolder): Logger {
  const min = ORDER[options.level ?? envLevel() ?? 'info']
  const write = options.write ?? ((line: string) => process.stderr.write(line))
  const format = options.format ?? (process.env.IOTLOAD_LOG_FORMAT === 'json' ? 'json' : 'text')
  const bindingKey = JSON.stringify(bindings)
  const print = (level: LogLevel, msg: string, fields: Record<string, unknown> | undefined, repeated = 0) => {
    const all: Record<string, unknown> = {}
    for (const [k, v] of Object.entries({ ...bindings, ...fields })) all[k] = capValue(v)
    if (repeated > 0) all.repeated = repeated
    const text = capString(msg)
    let line: string
    if (format === 'json') {
      line = JSON.stringify({ time: new Date().toISOString(), level, msg: text, ...all })
    } else {
      const extra = Object.entries(all)
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(' ')
      // Control characters are escaped: a run name with a newline must not forge a second log line.
      line = escapeControls(
        `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${text}${extra ? ` ${extra}` : ''}`,
      )
    }
    write(`${secrets.scrub(line)}\n`)
  }
  const emit = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[level] < min) return
    // One device's reconnect warning is news; a thousand in the same second are one line with a count.
    if (level === 'warn' || level === 'error') {
      const shown = folder.offer(`${level}\u0000${bindingKey}\u0000${msg}`, (f: FoldedLine) =>
        print(level, `${msg} (and ${f.count} more like it in the last ${f.windowMs} ms)`, fields, f.count),
      )
      if (!shown) return
    }
    print(level, msg, fields)
  }
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (b) => makeLogger(options, { ...bindings, ...b }, folder),
  }
}
