import { execFileSync } from 'node:child_process'
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '@iotload/sdk/testing'

/**
 * A private broker driven by a generated shell script (`ctl.sh start|kill|stop|restart N`), so a
 * scenario's own `faults:` commands can crash and restart it: what the fault timeline is for. The
 * server runs in a session of its own (setsid), outside the fault command's process group.
 */
export interface ShellBroker {
  readonly port: number
  /** The `extraPorts` the spec asked for (`$PORT2`, `$PORT3`, ...). */
  readonly extraPorts: readonly number[]
  readonly dir: string
  /** `sh <dir>/ctl.sh <action>`: a command line for a scenario's `setup`/`faults`/`teardown`. */
  cmd(action: string): string
  /** Runs `ctl.sh <action>` now (synchronously), returning its output. */
  run(action: string): string
  /** Kills the server if it runs and removes its directory. Idempotent. */
  dispose(): void
  /** The server's log (last 2000 characters), for assertion messages. */
  log(): string
}

/** How to start one kind of server. */
export interface ShellBrokerSpec {
  name: string
  /**
   * Shell command that starts the server in the foreground (it is backgrounded by ctl.sh with its
   * pid recorded); `$PORT` and `$DIR` are set.
   */
  start: string
  /** Shell command that exits 0 once the server serves. @default the port accepts TCP */
  ready?: string
  /** Address the default readiness check connects to. @default '127.0.0.1' */
  host?: string
  /** Seconds to wait for `ready`. @default 30 */
  readySeconds?: number
  /** Extra ports the server needs (`$PORT2`, ...). */
  extraPorts?: number
  /** Signal for a clean stop. @default TERM */
  stopSignal?: string
  /** Writes what the server needs into its directory before the first start (a config file). */
  prepare?: (dir: string, port: number, extraPorts: number[]) => void
}

const portOpen = (host: string) =>
  `node -e "require('net').connect(+process.argv[1],process.argv[2]).on('connect',()=>process.exit(0)).on('error',()=>process.exit(1))" "$PORT" ${host}`

/** Writes the ctl script for `spec` and starts the server. */
export async function startShellBroker(spec: ShellBrokerSpec): Promise<ShellBroker> {
  const dir = mkdtempSync(join(tmpdir(), `iotload-${spec.name}-`))
  chmodSync(dir, 0o755)
  const port = await freePort()
  const extra: number[] = []
  for (let i = 0; i < (spec.extraPorts ?? 0); i++) extra.push(await freePort())
  const ctl = join(dir, 'ctl.sh')
  const tries = (spec.readySeconds ?? 30) * 10
  writeFileSync(
    ctl,
    `#!/bin/sh
# ${spec.name} on 127.0.0.1:${port}, written by shell-broker.ts for a fault test.
set -u
PORT=${port}
${extra.map((p, i) => `PORT${i + 2}=${p}`).join('\n')}
DIR=${dir}
export PORT DIR ${extra.map((_, i) => `PORT${i + 2}`).join(' ')}
pidfile=$DIR/server.pid
ready() { ${spec.ready ?? portOpen(spec.host ?? '127.0.0.1')} >/dev/null 2>&1; }
stop() {
  [ -f "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  kill "-$1" "-$pid" 2>/dev/null || kill "-$1" "$pid" 2>/dev/null || true
  i=0
  while kill -0 "$pid" 2>/dev/null && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
  rm -f "$pidfile"
}
start() {
  setsid sh -c '${spec.start.replace(/'/g, `'\\''`)}' >>"$DIR/server.log" 2>&1 &
  echo $! > "$pidfile"
  i=0
  until ready; do
    i=$((i + 1))
    if [ $i -ge ${tries} ]; then echo "${spec.name} on :$PORT not ready" >&2; tail -20 "$DIR/server.log" >&2; exit 1; fi
    sleep 0.1
  done
  echo "${spec.name} up on :$PORT"
}
case "$1" in
  start) stop KILL; start ;;
  kill) stop KILL; echo "${spec.name} killed" ;;
  stop) stop ${spec.stopSignal ?? 'TERM'}; echo "${spec.name} stopped" ;;
  restart) stop KILL; echo "${spec.name} killed, down for \${2:-2}s"; sleep "\${2:-2}"; start ;;
  graceful-restart) stop ${spec.stopSignal ?? 'TERM'}; echo "${spec.name} stopped, down for \${2:-2}s"; sleep "\${2:-2}"; start ;;
  *) echo "usage: ctl.sh start|kill|stop|restart [s]|graceful-restart [s]" >&2; exit 2 ;;
esac
`,
  )
  chmodSync(ctl, 0o755)
  spec.prepare?.(dir, port, extra)
  const run = (action: string) =>
    execFileSync('sh', [ctl, ...action.split(' ')], { encoding: 'utf8', timeout: 120_000 })
  const broker: ShellBroker = {
    port,
    extraPorts: extra,
    dir,
    cmd: (action) => `sh ${ctl} ${action}`,
    run,
    log: () => {
      const f = join(dir, 'server.log')
      return existsSync(f) ? readFileSync(f, 'utf8').slice(-2000) : ''
    },
    dispose() {
      if (!existsSync(dir)) return
      try {
        run('kill')
      } catch {}
      rmSync(dir, { recursive: true, force: true })
    },
  }
  try {
    run('start')
  } catch (err) {
    const log = broker.log()
    broker.dispose()
    throw new Error(`${spec.name} did not start: ${(err as Error).message}\n${log}`)
  }
  return broker
}
