import { spawn } from 'node:child_process'

/** Output kept per command (stdout and stderr interleaved); the rest is counted, not kept. */
export const MAX_OUTPUT_BYTES = 16 * 1024
/** After SIGTERM to a timed-out command's process group, SIGKILL follows this much later. */
const KILL_GRACE_MS = 2000
/** A command that exited may leave a daemon holding its pipes: read them this much longer at most. */
const PIPE_GRACE_MS = 200

/** What one command did. Times are µs since the Unix epoch. */
export interface ExecOutcome {
  startUs: number
  endUs: number
  durationMs: number
  /** Exit status, null when a signal ended it (or it could not start). */
  exitCode: number | null
  signal: string | null
  /** Still running at its timeout: its process group was killed. */
  timedOut: boolean
  /** stdout and stderr as they came, at most MAX_OUTPUT_BYTES. */
  output: string
  /** Bytes beyond the kept output. */
  outputDropped: number
  /** Why it could not start (spawn error), when it did not. */
  error?: string
}

/**
 * Runs `command` through `/bin/sh -c` exactly as the operator wrote it, in a new process group,
 * capturing its output (bounded). At `timeoutMs` the whole group gets SIGTERM, then SIGKILL.
 * Never rejects: a command that cannot start is an outcome with `error`.
 */
export function runExec(command: string, timeoutMs: number, nowUs: () => number): Promise<ExecOutcome> {
  const startUs = nowUs()
  const chunks: Buffer[] = []
  let kept = 0
  let dropped = 0
  const keep = (b: Buffer) => {
    const room = MAX_OUTPUT_BYTES - kept
    if (room > 0) {
      chunks.push(b.subarray(0, room))
      kept += Math.min(room, b.length)
    }
    dropped += Math.max(0, b.length - Math.max(room, 0))
  }
  return new Promise((resolve) => {
    let timedOut = false
    let killTimer: NodeJS.Timeout | undefined
    const child = spawn('/bin/sh', ['-c', command], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    child.stdout.on('data', keep)
    child.stderr.on('data', keep)
    const killGroup = (signal: NodeJS.Signals) => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, signal)
      } catch {
        // The group is gone already.
      }
    }
    const timer = setTimeout(() => {
      timedOut = true
      killGroup('SIGTERM')
      killTimer = setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS)
      killTimer.unref()
    }, timeoutMs)
    const finish = (exitCode: number | null, signal: string | null, error?: string) => {
      clearTimeout(timer)
      const endUs = nowUs()
      resolve({
        startUs,
        endUs,
        durationMs: Math.round((endUs - startUs) / 100) / 10,
        exitCode,
        signal,
        timedOut,
        output: Buffer.concat(chunks).toString('utf8'),
        outputDropped: dropped,
        ...(error !== undefined ? { error } : {}),
      })
    }
    child.once('error', (err) => finish(null, null, err.message))
    child.once('exit', (code, signal) => {
      // `mosquitto -d` and the like inherit the pipes: stop waiting for them shortly after the exit.
      const pipes = setTimeout(() => {
        child.stdout.destroy()
        child.stderr.destroy()
      }, PIPE_GRACE_MS)
      child.once('close', () => {
        clearTimeout(pipes)
        // A timed-out group whose leader exited on SIGTERM: make sure its stragglers die too.
        if (timedOut) killGroup('SIGKILL')
        clearTimeout(killTimer)
        finish(code, signal)
      })
    })
  })
}
