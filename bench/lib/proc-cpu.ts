import { readdirSync, readFileSync } from 'node:fs'

/** CPU seconds (user + system) a process has used so far. */
export type CpuSeconds = () => number

/**
 * A reader of the CPU time of the process named `comm` (as in /proc/<pid>/comm, e.g.
 * `nats-server`), for counting a broker's CPU beside the client's; undefined where there is no
 * /proc or no such process.
 */
export function processCpu(comm: string): CpuSeconds | undefined {
  let pid: string | undefined
  try {
    pid = readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .find((d) => {
        try {
          return readFileSync(`/proc/${d}/comm`, 'utf8').trim() === comm
        } catch {
          return false
        }
      })
  } catch {
    return undefined
  }
  if (pid === undefined) return undefined
  const path = `/proc/${pid}/stat`
  return () => {
    // Fields after the ")" of the command name: utime and stime are the 12th and 13th, in clock ticks (100/s).
    const fields = readFileSync(path, 'utf8').split(') ')[1]!.split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100
  }
}
