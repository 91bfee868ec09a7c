# Helpers shared by the service scripts that run one JVM from a pid file (kafka.sh, zipkin.sh).
# Sourced, never run: .ci/run starts scripts/services/*.sh, and this file sits one level down.
# The sourcing script sets SERVICE (its name in messages) and PIDFILE first.

say() { echo "$SERVICE: $*"; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pid_alive() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

# await_start SECONDS READY UP_MESSAGE LOG...: polls READY (a command) once a second until it
# succeeds, then says UP_MESSAGE with the time it took. Fails, showing the logs' tails, when the
# process exits first or SECONDS pass. Uses t0 (set by the caller when it began starting).
await_start() {
  local limit=$1 ready=$2 message=$3
  shift 3
  for _ in $(seq 1 "$limit"); do
    if ! pid_alive; then
      tail -n 40 "$@" >&2 2>/dev/null || true
      say "exited during start-up (see $1)" >&2
      exit 1
    fi
    if $ready; then
      say "$message after $((SECONDS - t0)) s, pid $(cat "$PIDFILE")"
      return 0
    fi
    sleep 1
  done
  say "not ready after $limit s (see $1)" >&2
  exit 1
}

# stop_service SECONDS: TERM, then KILL if the process is still there after SECONDS.
stop_service() {
  if ! pid_alive; then say "not running"; rm -f "$PIDFILE"; return 0; fi
  local pid
  pid=$(cat "$PIDFILE")
  kill "$pid"
  for _ in $(seq 1 "$1"); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$PIDFILE"; say "stopped"; return 0; }
    sleep 1
  done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$PIDFILE"
  say "killed after $1 s"
}
