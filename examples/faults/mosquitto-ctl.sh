#!/bin/sh
# start | stop | kill | restart [down-seconds] the private Mosquitto of mosquitto-18830.conf.
# Used by examples/fault-mosquitto-restart.yaml's setup, faults and teardown (run by /bin/sh -c).
set -eu
dir=$(cd "$(dirname "$0")" && pwd)
conf="$dir/mosquitto-18830.conf"
pidfile=/tmp/iotload-fault-mosquitto-18830.pid
port=18830

wait_up() {
  i=0
  until mosquitto_pub -h 127.0.0.1 -p "$port" -t iotload/fault-example/ping -m up -q 0 2>/dev/null; do
    i=$((i + 1))
    [ "$i" -lt 100 ] || { echo "mosquitto on :$port did not come up" >&2; exit 1; }
    sleep 0.1
  done
}

stop() { # $1: TERM (clean shutdown, the session store is saved) or KILL (a crash)
  [ -f "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  kill "-$1" "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
  rm -f "$pidfile"
}

start() {
  mkdir -p /tmp/iotload-fault-mosquitto-18830
  mosquitto -d -c "$conf"
  wait_up
  echo "mosquitto up on :$port (pid $(cat "$pidfile"))"
}

case "${1:-}" in
  start) stop KILL; start ;;
  stop) stop TERM; echo "mosquitto on :$port stopped" ;;
  kill) stop KILL; echo "mosquitto on :$port killed" ;;
  restart) stop KILL; echo "mosquitto on :$port killed, down for ${2:-2}s"; sleep "${2:-2}"; start ;;
  *) echo "usage: $0 start|stop|kill|restart [down-seconds]" >&2; exit 2 ;;
esac
