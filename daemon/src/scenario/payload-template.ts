import { ConfigError, nowUs } from '@iotload/sdk'
import { formatMsgId } from './msgid.ts'

/** Per-message variables available to payload templates. */
export interface PayloadVars {
  device: number
  seq: number
  run: string
  /**
   * The time `{now}`, `{nowMs}` and `{iso}` render, µs since the epoch. The producer passes the
   * moment it renders and keeps it, so a timestamp an external flow copies back can be placed
   * exactly (warm-up or measured). @default the clock when rendered
   */
  nowUs?: number
}

type Piece = string | ((v: PayloadVars) => string)

/** Seeded PRNG (mulberry32): reproducible payloads for a given `run.seed`. */
export function createRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const TOKEN = /\{([a-zA-Z]+)(?::([^{}]*))?\}/g

/** Whether a placeholder renders a JSON number/boolean (so `"{int:0:9}"` becomes `7`, not `"7"`). */
function isScalarPlaceholder(name: string): boolean {
  return ['device', 'seq', 'int', 'float', 'now', 'nowMs', 'bool'].includes(name)
}

function placeholder(
  name: string,
  args: string | undefined,
  path: string,
  rnd: () => number,
): (v: PayloadVars) => string {
  const nums = (args ?? '')
    .split(':')
    .filter((s) => s !== '')
    .map(Number)
  switch (name) {
    case 'device':
      return (v) => String(v.device)
    case 'seq':
      return (v) => String(v.seq)
    case 'run':
      return (v) => v.run
    case 'msgid':
      // A correlation id for flows that keep only an id (consumer.external.correlationPath).
      return (v) => formatMsgId(v.run, v.device, v.seq)
    // Times come from the clock the send stamps and arrivals use, so an external flow's copy of one
    // is comparable with them (Date.now() can drift from it by NTP adjustments).
    case 'now':
      return (v) => String(Math.floor(v.nowUs ?? nowUs()))
    case 'nowMs':
      return (v) => String(Math.floor((v.nowUs ?? nowUs()) / 1000))
    case 'iso':
      return (v) => new Date(Math.floor((v.nowUs ?? nowUs()) / 1000)).toISOString()
    case 'bool':
      return () => (rnd() < 0.5 ? 'true' : 'false')
    case 'int': {
      const [min = 0, max = 100] = nums
      if (nums.some(Number.isNaN) || max < min)
        throw new ConfigError(path, `bad {int:min:max} placeholder '{int:${args}}'`)
      return () => String(min + Math.floor(rnd() * (max - min + 1)))
    }
    case 'float': {
      const [min = 0, max = 1, decimals = 2] = nums
      if (
        nums.some(Number.isNaN) ||
        max < min ||
        !Number.isInteger(decimals) ||
        decimals < 0 ||
        decimals > 20
      )
        throw new ConfigError(
          path,
          `bad {float:min:max:decimals} placeholder '{float:${args}}' (decimals: a whole number from 0 to 20)`,
        )
      return () => (min + rnd() * (max - min)).toFixed(decimals)
    }
    case 'choice': {
      const options = (args ?? '').split('|')
      if (options.length === 0 || options[0] === '')
        throw new ConfigError(path, '{choice:a|b|c} needs at least one option')
      return () => options[Math.floor(rnd() * options.length)]!
    }
    default:
      throw new ConfigError(
        path,
        `unknown placeholder {${name}}; allowed: {device} {seq} {run} {msgid} {int:min:max} {float:min:max:decimals} {choice:a|b} {bool} {now} {nowMs} {iso}`,
      )
  }
}

function compileString(text: string, path: string, rnd: () => number): Piece[] {
  const pieces: Piece[] = []
  let last = 0
  for (const m of text.matchAll(TOKEN)) {
    if (m.index > last) pieces.push(text.slice(last, m.index))
    pieces.push(placeholder(m[1]!, m[2], path, rnd))
    last = m.index + m[0].length
  }
  if (last < text.length) pieces.push(text.slice(last))
  return pieces
}

function renderPieces(pieces: Piece[], v: PayloadVars): string {
  let out = ''
  for (const p of pieces) out += typeof p === 'string' ? p : p(v)
  return out
}

function compileJsonValue(value: unknown, path: string, rnd: () => number, out: Piece[]): void {
  if (typeof value === 'string') {
    const pieces = compileString(value, path, rnd)
    const whole = [...value.matchAll(TOKEN)]
    if (
      pieces.length === 1 &&
      typeof pieces[0] === 'function' &&
      whole.length === 1 &&
      isScalarPlaceholder(whole[0]![1]!)
    ) {
      out.push(pieces[0])
    } else if (pieces.every((p) => typeof p === 'string')) {
      out.push(JSON.stringify(value))
    } else {
      out.push((v) => JSON.stringify(renderPieces(pieces, v)))
    }
  } else if (Array.isArray(value)) {
    out.push('[')
    value.forEach((item, i) => {
      if (i > 0) out.push(',')
      compileJsonValue(item, `${path}[${i}]`, rnd, out)
    })
    out.push(']')
  } else if (value !== null && typeof value === 'object') {
    out.push('{')
    Object.entries(value).forEach(([k, item], i) => {
      out.push(`${i > 0 ? ',' : ''}${JSON.stringify(k)}:`)
      compileJsonValue(item, `${path}.${k}`, rnd, out)
    })
    out.push('}')
  } else {
    out.push(JSON.stringify(value))
  }
}

/** Merges adjacent literal pieces so rendering does the fewest concatenations. */
function coalesce(pieces: Piece[]): Piece[] {
  const out: Piece[] = []
  for (const p of pieces) {
    const prev = out[out.length - 1]
    if (typeof p === 'string' && typeof prev === 'string') out[out.length - 1] = prev + p
    else out.push(p)
  }
  return out
}

/**
 * Compiles the scenario's payload template once into a fast renderer. An object template renders
 * JSON (a lone numeric placeholder becomes a number); a string template renders verbatim.
 */
export function compilePayloadTemplate(
  template: unknown,
  path: string,
  seed: number,
): (v: PayloadVars) => string {
  const rnd = createRandom(seed)
  const pieces: Piece[] = []
  if (typeof template === 'string') pieces.push(...compileString(template, path, rnd))
  else compileJsonValue(template, path, rnd, pieces)
  const compiled = coalesce(pieces)
  if (compiled.length === 1 && typeof compiled[0] === 'string') {
    const constant = compiled[0]
    return () => constant
  }
  return (v) => renderPieces(compiled, v)
}
