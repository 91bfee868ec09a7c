#!/usr/bin/env bash
# The services this machine kind starts before a session (Mosquitto, RabbitMQ, NATS, Redis).
# `start` restarts any that stopped, with the same commands the machine uses; `status` reports.
set -uo pipefail
cmd=${1:-status}

up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() { # name port seconds
  for _ in $(seq 1 "$3"); do up "$2" && return 0; sleep 1; done
  echo "$1 did not come up on :$2" >&2; return 1
}

ensure() { # name port start-command...
  local name=$1 port=$2; shift 2
  if up "$port"; then echo "$name: up on 127.0.0.1:$port"; return 0; fi
  [ "$cmd" = start ] || { echo "$name: DOWN on 127.0.0.1:$port"; return 0; }
  echo "$name: starting"
  "$@" || true
  wait_port "$name" "$port" 60 && echo "$name: up on 127.0.0.1:$port"
}

ensure Mosquitto 1883 mosquitto -d -c /etc/mosquitto/mosquitto.conf
ensure RabbitMQ 5672 rabbitmq-server -detached
ensure NATS 4222 start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- \
  -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
ensure Redis 6379 redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
  --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
