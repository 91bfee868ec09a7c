import { readdirSync, readFileSync } from 'node:fs'
import { ConfigError } from '@iotload/sdk'
import type { Scenario } from '../scenario/schema.ts'

/** Files a run needs besides its connections: the store, logs, the event loop, sockets of the API. */
export const SPARE_FILES = 64

/** Where the process's open-file limit and usage are read (Linux `/proc`); injectable for tests. */
export interface FileLimitSource {
  /** The soft limit (`ulimit -n`), or undefined when it cannot be read (not Linux). */
  limit(): number | undefined
  /** Files open now, or 0 when unknown. */
  open(): number
}

/** Reads `/proc/self/limits` and `/proc/self/fd`; answers undefined / 0 where they do not exist. */
export const procFileLimits: FileLimitSource = {
  limit() {
    try {
      const line = readFileSync('/proc/self/limits', 'utf8')
        .split('\n')
        .find((l) => l.startsWith('Max open files'))
      const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0]
      if (soft === undefined || soft === 'unlimited') return undefined
      const n = Number(soft)
      return Number.isFinite(n) ? n : undefined
    } catch {
      return undefined
    }
  },
  open() {
    try {
      return readdirSync('/proc/self/fd').length
    } catch {
      return 0
    }
  },
}

/** The connections a run opens: the fleet's (per group), the consumer's and the bridge's two. */
export function connectionsNeeded(s: Scenario): { producer: number; consumer: number; bridge: number } {
  const producer = s.groups.reduce((n, g) => {
    const p = g.config
    return n + (p.connections === 'per-device' ? p.devices : Math.min(p.connections, p.devices))
  }, 0)
  return {
    producer,
    consumer: s.consumer.enabled ? s.consumer.connections : 0,
    bridge: s.bridge ? 2 : 0,
  }
}

const n = (v: number) => v.toLocaleString('en-US')

/**
 * Refuses, before anything connects, a fleet that cannot fit in this process's open-file limit
 * (each connection holds at least one descriptor), saying what to do. A run that hits EMFILE
 * half-way through its connect phase measures nothing; this one fails in a millisecond.
 * Does nothing where the limit cannot be read.
 */
export function checkFileLimit(s: Scenario, source: FileLimitSource = procFileLimits): void {
  const limit = source.limit()
  if (limit === undefined) return
  const need = connectionsNeeded(s)
  const open = source.open()
  const total = need.producer + need.consumer + need.bridge + open + SPARE_FILES
  if (total <= limit) return
  const field = s.grouped ? 'producers' : 'producer.devices'
  throw new ConfigError(
    field,
    `this run needs about ${n(total)} open files (${n(need.producer)} device connections, ${n(need.consumer)} consumer, ${n(need.bridge)} bridge, ${n(open)} already open, ${SPARE_FILES} spare) but this process may open ${n(limit)} (ulimit -n). Raise the limit before starting iotload (ulimit -n ${n(Math.ceil((total * 1.1) / 1000) * 1000).replace(/,/g, '')}; LimitNOFILE= for systemd, --ulimit nofile= for docker), share connections (producer.connections: N), or split the fleet over more processes (cluster mode)`,
  )
}

/**
 * `EMFILE` (this process) or `ENFILE` (the whole system) when a failed connect ran out of file
 * descriptors, looking through wrapped causes: a plugin reports that as unreachable, but what to
 * do about it differs (raise `ulimit -n`, not fix the broker).
 */
export function fileLimitCause(err: unknown): 'EMFILE' | 'ENFILE' | undefined {
  let e: unknown = err
  for (let depth = 0; depth < 5 && e !== null && typeof e === 'object'; depth++) {
    const code = (e as { code?: unknown }).code
    if (code === 'EMFILE' || code === 'ENFILE') return code
    e = (e as { cause?: unknown }).cause
  }
  return undefined
}
