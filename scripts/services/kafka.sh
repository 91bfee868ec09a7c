#!/usr/bin/env bash
# Apache Kafka 4.x, one combined broker+controller node in KRaft mode, for the integration tests,
# the examples and the Kafka bench suite.
#
#   bash scripts/services/kafka.sh start|stop|status
#
# The jars come from Maven Central only (there is no other internet here): a throwaway pom in
# ~/.cache/iotload/kafka-<ver>/ lists kafka_2.13, kafka-tools and the log4j2 SLF4J binding, and
# `mvn dependency:copy-dependencies` drops them into jars/, which later starts reuse. Nothing of it
# lives in the repository.
#
# Listeners (all on 127.0.0.1):
#   9092 PLAINTEXT        what the tests and examples use
#   9093 CONTROLLER       KRaft quorum, internal
#   9094 SASL_PLAINTEXT   PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 for user iotload / iotload-secret,
#                         so the plugin's auth path (wrong password → kind 'auth') is tested for real
#   9095 SSL              server certificate for 127.0.0.1 signed by a throwaway CA made here with
#                         openssl: $IOTLOAD_CACHE/kafka-run/tls/ca.pem (other-ca.pem signs nothing)
#
# The data directory is wiped and formatted on every start (a test fixture, not a store).
# Environment: KAFKA_VERSION (default 4.1.1), IOTLOAD_CACHE (default ~/.cache/iotload),
# KAFKA_HEAP (default -Xmx512m -Xms256m).
set -euo pipefail

cmd=${1:-status}
VER=${KAFKA_VERSION:-4.1.1}
LOG4J_VER=2.24.3
SLF4J_VER=2.0.17
CACHE=${IOTLOAD_CACHE:-$HOME/.cache/iotload}
DIST=$CACHE/kafka-$VER
JARS=$DIST/jars
DATA=$CACHE/kafka-data
LOGS=$CACHE/kafka-logs
RUN=$CACHE/kafka-run
PIDFILE=$RUN/kafka.pid
PORT=9092
SASL_PORT=9094
SSL_PORT=9095
TLS=$RUN/tls
# Test-only account of the SASL listener; not a secret, the broker binds 127.0.0.1 only.
SASL_USER=iotload
SASL_PASS=iotload-secret

SERVICE=kafka
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
java_cp() { java -Xmx256m -cp "$JARS/*" -Dlog4j2.configurationFile="$RUN/tools-log4j2.properties" "$@"; }

fetch_jars() {
  if [ -f "$JARS/.complete" ] && [ "$(cat "$JARS/.complete")" = "$VER:$LOG4J_VER:$SLF4J_VER" ]; then return 0; fi
  say "downloading Kafka $VER from Maven Central into $JARS (first start only)"
  mkdir -p "$DIST"
  cat >"$DIST/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>iotload.cache</groupId>
  <artifactId>kafka-dist</artifactId>
  <version>$VER</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$VER</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>$VER</version></dependency>
    <!-- Kafka 4 logs through SLF4J onto log4j2; without a binding the broker would log nothing. -->
    <!-- Pinned: Maven's nearest-wins would otherwise pick a transitive slf4j-api 1.7, which ignores the 2.x binding. -->
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId><version>$SLF4J_VER</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j2-impl</artifactId><version>$LOG4J_VER</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>$LOG4J_VER</version></dependency>
  </dependencies>
</project>
EOF
  rm -rf "$JARS"
  (cd "$DIST" && mvn -B -q dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$JARS") \
    >"$DIST/mvn.log" 2>&1 || { cat "$DIST/mvn.log" >&2; say "Maven download failed (log: $DIST/mvn.log)" >&2; exit 1; }
  echo "$VER:$LOG4J_VER:$SLF4J_VER" >"$JARS/.complete"
  say "$(find "$JARS" -name '*.jar' | wc -l) jars in $JARS"
}

make_tls() {
  [ -f "$TLS/server-keystore.pem" ] && [ -f "$TLS/other-ca.pem" ] && return 0
  # Without openssl there is no TLS listener; the TLS tests then skip (they look for ca.pem).
  command -v openssl >/dev/null || { say "openssl not found: no TLS listener"; return 1; }
  mkdir -p "$TLS"
  # Explicit && chains: `set -e` does not apply inside a function called as an `if` condition.
  # The keystore is written last and marks a complete set.
  (
    cd "$TLS" &&
      openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=iotload test ca" \
        -keyout ca.key -out ca.pem 2>/dev/null &&
      openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=iotload test other-ca" \
        -keyout other-ca.key -out other-ca.pem 2>/dev/null &&
      openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout server.key -out server.csr 2>/dev/null &&
      printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >server.ext &&
      openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 \
        -extfile server.ext -out server.pem 2>/dev/null &&
      # Kafka's PEM keystore: an unencrypted PKCS#8 key followed by the certificate chain.
      { openssl pkcs8 -topk8 -nocrypt -in server.key && cat server.pem ca.pem; } >keystore.tmp &&
      mv keystore.tmp server-keystore.pem
  ) || { say "could not make TLS material: no TLS listener"; return 1; }
}

write_config() {
  mkdir -p "$RUN" "$LOGS" "$DATA"
  local ssl_listener="" ssl_advertised="" ssl_config=""
  if make_tls; then
    ssl_listener=",SSL://127.0.0.1:$SSL_PORT"
    ssl_advertised=",SSL://127.0.0.1:$SSL_PORT"
    ssl_config="listener.name.ssl.ssl.keystore.type=PEM
listener.name.ssl.ssl.keystore.location=$TLS/server-keystore.pem
listener.name.ssl.ssl.client.auth=none"
  fi
  cat >"$RUN/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:9093
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:9093,SASL_PLAINTEXT://127.0.0.1:$SASL_PORT$ssl_listener
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT,SASL_PLAINTEXT://127.0.0.1:$SASL_PORT$ssl_advertised
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL
$ssl_config
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$SASL_USER="$SASL_PASS";
listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
log.dirs=$DATA
num.partitions=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Tests create many short-lived consumer groups; do not make each join wait 3 s for more members.
group.initial.rebalance.delay.ms=0
log.retention.hours=6
log.segment.bytes=67108864
num.network.threads=2
num.io.threads=4
EOF
  cat >"$RUN/log4j2.properties" <<EOF
status = warn
appender.file.type = RollingFile
appender.file.name = file
appender.file.fileName = $LOGS/server.log
appender.file.filePattern = $LOGS/server.log.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 20MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 3
rootLogger.level = info
rootLogger.appenderRef.file.ref = file
logger.kafka.name = kafka
logger.kafka.level = info
logger.state.name = state.change.logger
logger.state.level = warn
EOF
  cat >"$RUN/tools-log4j2.properties" <<EOF
status = warn
appender.err.type = Console
appender.err.name = err
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = %p %m%n
rootLogger.level = warn
rootLogger.appenderRef.err.ref = err
EOF
}

format_storage() {
  # A fresh log on every start: tests and examples create topics with unique names, and a broker
  # that reloads a thousand leftover partitions starts several times slower. Formatting also
  # (re)creates the SCRAM users, which live in the metadata log.
  rm -rf "$DATA" && mkdir -p "$DATA"
  local id
  # What `StorageTool random-uuid` prints (16 random bytes, URL-safe base64), without a JVM start.
  # Like Kafka's own Uuid.randomUuid, draw again when it starts with '-': the option parser would
  # read it as an option and fail the start (1 start in 64).
  id=-
  while [[ $id == -* ]]; do id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n'); done
  java_cp kafka.tools.StorageTool format -t "$id" -c "$RUN/server.properties" \
    --add-scram "SCRAM-SHA-256=[name=$SASL_USER,password=$SASL_PASS]" \
    --add-scram "SCRAM-SHA-512=[name=$SASL_USER,password=$SASL_PASS]" >"$LOGS/format.log" 2>&1 \
    || { cat "$LOGS/format.log" >&2; exit 1; }
  say "formatted fresh storage in $DATA (cluster $id)"
}

# The broker answers a metadata request, not just accepts TCP.
broker_answers() {
  java_cp org.apache.kafka.tools.TopicCommand --bootstrap-server "127.0.0.1:$PORT" --list >/dev/null 2>&1
}

start() {
  if pid_alive && port_open "$PORT"; then say "already up on 127.0.0.1:$PORT (pid $(cat "$PIDFILE"))"; return 0; fi
  if ! pid_alive && port_open "$PORT"; then
    say "port $PORT is taken by another process; not starting" >&2; exit 1
  fi
  local t0=$SECONDS
  fetch_jars
  write_config
  if ! pid_alive; then
    format_storage
    say "starting (logs: $LOGS/server.log, stdout: $LOGS/stdout.log)"
    # setsid + nohup: the broker outlives this shell and the CI step that ran it.
    setsid nohup java ${KAFKA_HEAP:--Xmx512m -Xms256m} -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
      -Djava.awt.headless=true -Dlog4j2.configurationFile="$RUN/log4j2.properties" \
      -cp "$JARS/*" kafka.Kafka "$RUN/server.properties" >"$LOGS/stdout.log" 2>&1 </dev/null &
    echo $! >"$PIDFILE"
  fi
  local tls_note=''
  grep -q '^listener.name.ssl' "$RUN/server.properties" && tls_note=", TLS on :$SSL_PORT"
  ready() { port_open "$PORT" && broker_answers; }
  await_start 90 ready "up on 127.0.0.1:$PORT (SASL on :$SASL_PORT$tls_note), logs $LOGS/server.log" \
    "$LOGS/server.log" "$LOGS/stdout.log"
}

stop() { stop_service 30; }

status() {
  if pid_alive && port_open "$PORT"; then say "up on 127.0.0.1:$PORT (pid $(cat "$PIDFILE")), logs $LOGS/server.log"
  elif pid_alive; then say "starting (pid $(cat "$PIDFILE"))"
  elif port_open "$PORT"; then say "port $PORT answers but not our process"
  else say "DOWN"; return 3; fi
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
