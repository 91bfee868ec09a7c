#!/usr/bin/env bash
# Apache Camel between Kafka topics: the seed's iPaaS step (kafka:telemetry → transform →
# kafka:actions), for the external-iPaaS integration test, examples/seed-kafka-camel-real.yaml and
# the Camel bench figures in BENCHMARKS.md. The route is scripts/services/camel/IotloadCamelRoute.java
# (Java DSL on camel-main); what it keeps of each reading is described there.
#
#   bash scripts/services/camel.sh fetch          # jars + compiled route only (what CI's `start` needs first)
#   bash scripts/services/camel.sh start|stop|status
#                                                  # the example's route in the background:
#                                                  # iotload-camel-telemetry → iotload-camel-actions
#                                                  # (without Kafka up, `start` only fetches)
#   bash scripts/services/camel.sh run            # one route in the foreground (tests, benches), set by
#                                                  # CAMEL_FROM, CAMEL_TO, CAMEL_GROUP, CAMEL_KEEP,
#                                                  # CAMEL_PARTITIONS, CAMEL_CONSUMERS, CAMEL_PIPELINE,
#                                                  # CAMEL_BROKERS, CAMEL_DROP
#                                                  # (see the .java file)
#
# The jars come from Maven Central only: a throwaway pom in ~/.cache/iotload/camel-<ver>/ lists
# camel-main, camel-kafka, camel-jackson and camel-seda, `mvn dependency:copy-dependencies` drops them into
# jars/, and javac compiles the route against them (again whenever the .java file changes).
# Nothing of it lives in the repository. Needs Kafka on 127.0.0.1:9092 (scripts/services/kafka.sh).
# Environment: CAMEL_VERSION (default 4.18.0), IOTLOAD_CACHE (default ~/.cache/iotload),
# CAMEL_HEAP (default -Xmx256m -Xms64m).
set -euo pipefail

cmd=${1:-status}
VER=${CAMEL_VERSION:-4.18.0}
SLF4J_VER=2.0.17
# What the cache holds; a change here (another component) fetches again.
DEPS="$VER:main,kafka,jackson,seda:$SLF4J_VER"
CACHE=${IOTLOAD_CACHE:-$HOME/.cache/iotload}
DIST=$CACHE/camel-$VER
JARS=$DIST/jars
CLASSES=$DIST/classes
RUN=$CACHE/camel-run
LOG=$RUN/camel.log
PIDFILE=$RUN/camel.pid
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/camel/IotloadCamelRoute.java
KAFKA_PORT=9092

SERVICE=camel
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

fetch_jars() {
  if [ -f "$JARS/.complete" ] && [ "$(cat "$JARS/.complete")" = "$DEPS" ]; then return 0; fi
  say "downloading Camel $VER (camel-main, camel-kafka, camel-jackson, camel-seda) from Maven Central into $JARS (first use only)"
  mkdir -p "$DIST"
  cat >"$DIST/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>iotload.cache</groupId>
  <artifactId>camel-dist</artifactId>
  <version>$VER</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.camel</groupId><artifactId>camel-main</artifactId><version>$VER</version></dependency>
    <dependency><groupId>org.apache.camel</groupId><artifactId>camel-kafka</artifactId><version>$VER</version></dependency>
    <dependency><groupId>org.apache.camel</groupId><artifactId>camel-jackson</artifactId><version>$VER</version></dependency>
    <dependency><groupId>org.apache.camel</groupId><artifactId>camel-seda</artifactId><version>$VER</version></dependency>
    <!-- Camel logs through SLF4J; the simple binding writes to stderr, levels set by system properties. -->
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-simple</artifactId><version>$SLF4J_VER</version></dependency>
  </dependencies>
</project>
EOF
  rm -rf "$JARS"
  (cd "$DIST" && mvn -B -q dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$JARS") \
    >"$DIST/mvn.log" 2>&1 || { cat "$DIST/mvn.log" >&2; say "Maven download failed (log: $DIST/mvn.log)" >&2; exit 1; }
  echo "$DEPS" >"$JARS/.complete"
  say "$(find "$JARS" -name '*.jar' | wc -l) jars in $JARS"
}

compile_route() {
  local sum
  sum=$(sha256sum "$SRC" | cut -d' ' -f1)
  if [ -f "$CLASSES/.source" ] && [ "$(cat "$CLASSES/.source")" = "$sum" ]; then return 0; fi
  rm -rf "$CLASSES" && mkdir -p "$CLASSES"
  javac -nowarn -cp "$JARS/*" -d "$CLASSES" "$SRC" || { say "javac failed on $SRC" >&2; exit 1; }
  echo "$sum" >"$CLASSES/.source"
  say "compiled $(basename "$SRC")"
}

fetch() {
  command -v java >/dev/null && command -v javac >/dev/null || { say "needs a JDK 17+ (java, javac)" >&2; exit 1; }
  fetch_jars
  compile_route
}

# The JVM of one route, in the foreground (exec: its pid is the caller's child's pid).
run_route() {
  fetch
  # Camel's start line and Kafka's partition assignment are logged; the rest only when it matters.
  exec java ${CAMEL_HEAP:--Xmx256m -Xms64m} -XX:+UseG1GC -XX:MaxGCPauseMillis=10 -Djava.awt.headless=true \
    -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
    -Dorg.slf4j.simpleLogger.log.org.apache.camel.impl.engine.AbstractCamelContext=info \
    -Dorg.slf4j.simpleLogger.log.org.apache.kafka.clients.consumer.internals.ConsumerRebalanceListenerInvoker=info \
    -Diotload.brokers="${CAMEL_BROKERS:-127.0.0.1:$KAFKA_PORT}" \
    -Diotload.from="${CAMEL_FROM:-iotload-camel-telemetry}" \
    -Diotload.to="${CAMEL_TO:-iotload-camel-actions}" \
    -Diotload.group="${CAMEL_GROUP:-iotload-camel}" \
    -Diotload.keep="${CAMEL_KEEP:-envelope}" \
    -Diotload.consumers="${CAMEL_CONSUMERS:-4}" \
    -Diotload.partitions="${CAMEL_PARTITIONS:-10}" \
    -Diotload.pipeline="${CAMEL_PIPELINE:-seda}" \
    -Diotload.drop="${CAMEL_DROP:-}" \
    -cp "$CLASSES:$JARS/*" IotloadCamelRoute
}

route_started() { grep -q 'started in' "$LOG" 2>/dev/null; }

start() {
  if pid_alive; then say "already up (pid $(cat "$PIDFILE")), log $LOG"; return 0; fi
  local t0=$SECONDS
  fetch
  # .ci/run starts the services in name order, so Kafka comes after this script there: without it
  # there is nothing to route yet. The tests start routes of their own (`run`), so that is fine.
  if ! port_open "$KAFKA_PORT"; then
    say "jars ready; route not started: Kafka is not up on 127.0.0.1:$KAFKA_PORT (bash scripts/services/kafka.sh start, then this again)"
    return 0
  fi
  mkdir -p "$RUN"
  : >"$LOG"
  # setsid + nohup: the route outlives this shell and the CI step that ran it.
  setsid nohup bash "${BASH_SOURCE[0]}" run >"$LOG" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  await_start 60 route_started "route iotload-camel-telemetry → iotload-camel-actions up" "$LOG"
}

stop() { stop_service 20; }

status() {
  if pid_alive && route_started; then say "up (pid $(cat "$PIDFILE")), log $LOG"
  elif pid_alive; then say "starting (pid $(cat "$PIDFILE"))"
  else say "DOWN"; return 3; fi
}

case "$cmd" in
  fetch) fetch ;;
  run) run_route ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 fetch|run|start|stop|status" >&2; exit 2 ;;
esac
