import type { PluginLogger } from '@iotload/sdk'
import { secrets } from '../scenario/secrets.ts'

/** Log levels in increasing severity. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 }

/** Options for `createLogger`. */
export interface LoggerOptions {
  /** @default 'info' (or IOTLOAD_LOG_LEVEL) */
  level?: LogLevel
  /** `json` writes one object per line, for collectors. @default 'text' */
  format?: 'text' | 'json'
  /** @default process.stderr.write */
  write?: (line: string) => void
}

/** A logger that scrubs every registered secret from messages and fields before writing. */
export interface Logger extends PluginLogger {
  child(bindings: Record<string, unknown>): Logger
}

function envLevel(): LogLevel | undefined {
  const v = process.env.IOTLOAD_LOG_LEVEL
  return v === 'debug' || v === 'info' || v === 'warn' || v === 'error' ? v : undefined
}

/** Creates the daemon's logger. Telemetry-style config: a bad IOTLOAD_LOG_LEVEL falls back to info. */
export function createLogger(options: LoggerOptions = {}, bindings: Record<string, unknown> = {}): Logger {
  const min = ORDER[options.level ?? envLevel() ?? 'info']
  const write = options.write ?? ((line: string) => process.stderr.write(line))
  const format = options.format ?? (process.env.IOTLOAD_LOG_FORMAT === 'json' ? 'json' : 'text')
  const emit = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[level] < min) return
    const all = { ...bindings, ...fields }
    let line: string
    if (format === 'json') {
      line = JSON.stringify({ time: new Date().toISOString(), level, msg, ...all })
    } else {
      const extra = Object.entries(all)
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(' ')
      line = `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${msg}${extra ? ` ${extra}` : ''}`
    }
    write(`${secrets.scrub(line)}\n`)
  }
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (b) => createLogger(options, { ...bindings, ...b }),
  }
}
