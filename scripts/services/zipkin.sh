#!/usr/bin/env bash
# Zipkin 3.x (in-memory storage) on 127.0.0.1:9411: the trace backend of the OpenTelemetry
# integration test and of docs/observability.md.
#
#   bash scripts/services/zipkin.sh start|stop|status
#
# The executable jar comes from Maven Central only (io.zipkin:zipkin-server:<ver>:jar:exec), fetched
# once with `mvn dependency:copy` into ~/.cache/iotload/zipkin-<ver>/; nothing lives in the repository.
# iotload sends spans with OTel's Zipkin exporter (OTEL_TRACES_EXPORTER=zipkin); the OTLP module
# io.zipkin.contrib.otel:zipkin-module-otel could not be resolved from the Maven mirror available
# here, so OTLP ingest is documented for Jaeger instead (docs/observability.md).
#
# Environment: ZIPKIN_VERSION (default 3.5.1), IOTLOAD_CACHE (default ~/.cache/iotload),
# ZIPKIN_HEAP (default -Xmx256m -Xms64m), ZIPKIN_PORT (default 9411).
set -euo pipefail

cmd=${1:-status}
VER=${ZIPKIN_VERSION:-3.5.1}
CACHE=${IOTLOAD_CACHE:-$HOME/.cache/iotload}
DIST=$CACHE/zipkin-$VER
JAR=$DIST/zipkin-server-$VER-exec.jar
RUN=$CACHE/zipkin-run
LOG=$RUN/zipkin.log
PIDFILE=$RUN/zipkin.pid
PORT=${ZIPKIN_PORT:-9411}

SERVICE=zipkin
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# Zipkin answers its health endpoint with status UP once storage and collectors are ready.
healthy() { curl -fsS --max-time 2 "http://127.0.0.1:$PORT/health" 2>/dev/null | grep -q '"UP"'; }

fetch_jar() {
  if [ -s "$JAR" ]; then return 0; fi
  say "downloading zipkin-server $VER from Maven Central into $DIST (first start only)"
  mkdir -p "$DIST"
  mvn -B -q dependency:copy -Dartifact="io.zipkin:zipkin-server:$VER:jar:exec" -DoutputDirectory="$DIST" \
    >"$DIST/mvn.log" 2>&1 || { cat "$DIST/mvn.log" >&2; say "Maven download failed (log: $DIST/mvn.log)" >&2; exit 1; }
  [ -s "$JAR" ] || { say "expected $JAR after download" >&2; exit 1; }
}

start() {
  if pid_alive && healthy; then say "already up on 127.0.0.1:$PORT (pid $(cat "$PIDFILE"))"; return 0; fi
  if ! pid_alive && port_open "$PORT"; then
    if healthy; then say "a Zipkin not started by this script answers on 127.0.0.1:$PORT; using it"; return 0; fi
    say "port $PORT is taken by another process; not starting" >&2; exit 1
  fi
  local t0=$SECONDS
  fetch_jar
  mkdir -p "$RUN"
  if ! pid_alive; then
    say "starting (log: $LOG)"
    # setsid + nohup: the server outlives this shell and the CI step that ran it.
    STORAGE_TYPE=mem MEM_MAX_SPANS=200000 QUERY_PORT=$PORT SELF_TRACING_ENABLED=false \
      COLLECTOR_GRPC_ENABLED=false COLLECTOR_KAFKA_ENABLED=false COLLECTOR_RABBITMQ_ENABLED=false \
      COLLECTOR_ACTIVEMQ_ENABLED=false COLLECTOR_PULSAR_ENABLED=false \
      setsid nohup java ${ZIPKIN_HEAP:--Xmx256m -Xms64m} -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
      -Djava.awt.headless=true -jar "$JAR" --armeria.ports[0].ip=127.0.0.1 --armeria.ports[0].port="$PORT" --armeria.ports[0].protocols[0]=http \
      --logging.level.root=WARN --logging.level.zipkin2=INFO >"$LOG" 2>&1 </dev/null &
    echo $! >"$PIDFILE"
  fi
  await_start 120 healthy "up on 127.0.0.1:$PORT, UI http://127.0.0.1:$PORT/zipkin/" "$LOG"
}

stop() { stop_service 20; }

status() {
  if pid_alive && healthy; then say "up on 127.0.0.1:$PORT (pid $(cat "$PIDFILE")), log $LOG"
  elif pid_alive; then say "starting (pid $(cat "$PIDFILE"))"
  elif healthy; then say "a Zipkin not started by this script answers on 127.0.0.1:$PORT"
  else say "DOWN"; return 3; fi
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
