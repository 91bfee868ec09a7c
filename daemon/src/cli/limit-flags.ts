import { parseDurationMs, parseRatePerSecond } from '@iotload/sdk'
import type { ScenarioLimits } from '../scenario/trust-policy.ts'

/** Flags (or IOTLOAD_MAX_* variables) that raise or lower the caps on what a scenario may ask. */
export interface LimitFlags {
  /** `--max-rate 20000000/s` (IOTLOAD_MAX_RATE) */
  maxRate?: string | undefined
  /** `--max-devices 2000000` (IOTLOAD_MAX_DEVICES) */
  maxDevices?: string | undefined
  /** `--max-run-time 720h` (IOTLOAD_MAX_RUN_TIME) */
  maxRunTime?: string | undefined
  /** `--max-payload-bytes 4194304` (IOTLOAD_MAX_PAYLOAD_BYTES) */
  maxPayloadBytes?: string | undefined
  /** `--max-workers 128` (IOTLOAD_MAX_WORKERS) */
  maxWorkers?: string | undefined
}

function count(value: string, flag: string, max: number): number {
  const n = Number(value)
  if (!/^\d+$/.test(value.trim()) || n < 1 || n > max)
    throw new Error(`${flag} must be a whole number from 1 to ${max}, got '${value}'`)
  return n
}

/** The limits the flags and environment set; absent ones keep their defaults. Throws naming the flag. */
export function limitsFrom(flags: LimitFlags, env: NodeJS.ProcessEnv): Partial<ScenarioLimits> {
  const out: Partial<ScenarioLimits> = {}
  const rate = flags.maxRate ?? env.IOTLOAD_MAX_RATE
  if (rate !== undefined) {
    const r = parseRatePerSecond(rate.includes('/') ? rate : `${rate}/s`)
    if (r === undefined || r <= 0 || r > 1e9)
      throw new Error(`--max-rate must be a rate like 20000000/s, got '${rate}'`)
    out.maxRate = r
  }
  const devices = flags.maxDevices ?? env.IOTLOAD_MAX_DEVICES
  if (devices !== undefined) out.maxDevices = count(devices, '--max-devices', 1e9)
  const time = flags.maxRunTime ?? env.IOTLOAD_MAX_RUN_TIME
  if (time !== undefined) {
    const ms = parseDurationMs(time)
    if (ms === undefined || ms <= 0)
      throw new Error(`--max-run-time must be a duration like 720h, got '${time}'`)
    out.maxRunTimeMs = ms
  }
  const payload = flags.maxPayloadBytes ?? env.IOTLOAD_MAX_PAYLOAD_BYTES
  if (payload !== undefined) out.maxPayloadBytes = count(payload, '--max-payload-bytes', 1e9)
  const workers = flags.maxWorkers ?? env.IOTLOAD_MAX_WORKERS
  if (workers !== undefined) out.maxWorkers = count(workers, '--max-workers', 256)
  return out
}
