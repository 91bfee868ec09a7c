#!/usr/bin/env bash
# Apache Pulsar standalone for the broker-pulsar integration tests and examples.
#   pulsar.sh start    download (once) into ~/.cache/iotload, start, wait for public/default
#   pulsar.sh stop     stop what was started from here (pid files)
#   pulsar.sh status   report
# Idempotent: `start` with a broker already answering on the web port does nothing.
# Broker binds to 127.0.0.1 only: binary 6650, HTTP admin + WebSocket API on 8080.
# Plus, for auth tests, Pulsar's standalone WebSocket proxy with token auth on 8081 in front of
# the same broker (the standalone broker itself runs without auth). Its token is in
# ~/.cache/iotload/pulsar-run/auth/token. That proxy has no bind-address setting: it listens on
# all interfaces of this machine. And a Pulsar proxy (binary protocol) with the same token auth on
# 127.0.0.1:6652 (its HTTP side on 127.0.0.1:8082), for the binary transport's auth tests.
# The distribution comes from Maven Central through mvn (no other download), the JVM is the system Java 17.
set -uo pipefail
cmd=${1:-status}

PULSAR_VERSION=${PULSAR_VERSION:-4.0.8}
CACHE=${IOTLOAD_CACHE:-$HOME/.cache/iotload}
HOME_DIR=$CACHE/apache-pulsar-$PULSAR_VERSION
DATA_DIR=${PULSAR_DATA_DIR:-$CACHE/pulsar-data}
RUN_DIR=$CACHE/pulsar-run
PID_FILE=$RUN_DIR/pulsar.pid
LOG_DIR=$RUN_DIR/logs
CONF=$RUN_DIR/standalone.conf
WEB_PORT=${PULSAR_WEB_PORT:-8080}
BROKER_PORT=${PULSAR_BROKER_PORT:-6650}
WAIT_S=${PULSAR_WAIT_S:-180}
AUTH_PORT=${PULSAR_AUTH_WS_PORT:-8081}
AUTH_DIR=$RUN_DIR/auth
AUTH_PID_FILE=$RUN_DIR/ws-auth.pid
BIN_AUTH_PORT=${PULSAR_AUTH_BINARY_PORT:-6652}
BIN_AUTH_WEB_PORT=${PULSAR_AUTH_BINARY_WEB_PORT:-8082}
BIN_AUTH_PID_FILE=$RUN_DIR/binary-auth.pid
ARTIFACT=org.apache.pulsar:pulsar-server-distribution:$PULSAR_VERSION:tar.gz:bin
TARBALL=$HOME/.m2/repository/org/apache/pulsar/pulsar-server-distribution/$PULSAR_VERSION/pulsar-server-distribution-$PULSAR_VERSION-bin.tar.gz

up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
ready() { curl -sf --max-time 3 "http://127.0.0.1:$WEB_PORT/admin/v2/namespaces/public" 2>/dev/null | grep -q 'public/default'; }
running_pid() { [ -f "$PID_FILE" ] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null && cat "$PID_FILE"; }
auth_pid() { [ -f "$AUTH_PID_FILE" ] && kill -0 "$(cat "$AUTH_PID_FILE")" 2>/dev/null && cat "$AUTH_PID_FILE"; }
bin_auth_pid() { [ -f "$BIN_AUTH_PID_FILE" ] && kill -0 "$(cat "$BIN_AUTH_PID_FILE")" 2>/dev/null && cat "$BIN_AUTH_PID_FILE"; }

install() {
  [ -x "$HOME_DIR/bin/pulsar" ] && return 0
  mkdir -p "$CACHE"
  if [ ! -f "$TARBALL" ]; then
    echo "pulsar: downloading $ARTIFACT with mvn (~245 MB)"
    # dependency plugin 3.x: 2.8 (the default on Debian's maven) mis-resolves classifier artifacts.
    mvn -q -B -Dstyle.color=never org.apache.maven.plugins:maven-dependency-plugin:3.6.1:get \
      -Dartifact="$ARTIFACT" -Dtransitive=false >"$CACHE/pulsar-mvn.log" 2>&1 ||
      { cat "$CACHE/pulsar-mvn.log" >&2; echo "pulsar: mvn download failed" >&2; return 1; }
  fi
  echo "pulsar: extracting into $CACHE"
  tar xzf "$TARBALL" -C "$CACHE" || { rm -rf "$HOME_DIR"; echo "pulsar: extract failed" >&2; return 1; }
}

# A copy of standalone.conf bound to loopback; the tarball's own file stays pristine.
write_conf() {
  mkdir -p "$RUN_DIR" "$LOG_DIR" "$DATA_DIR"
  sed -e "s/^bindAddress=.*/bindAddress=127.0.0.1/" \
    -e "s/^advertisedAddress=.*/advertisedAddress=127.0.0.1/" \
    -e "s/^webServicePort=.*/webServicePort=$WEB_PORT/" \
    -e "s/^brokerServicePort=.*/brokerServicePort=$BROKER_PORT/" \
    -e "s/^webSocketServiceEnabled=.*/webSocketServiceEnabled=true/" \
    "$HOME_DIR/conf/standalone.conf" >"$CONF"
  # The embedded bookie reads its settings from the same file; without these it binds 0.0.0.0.
  printf '%s\n' '' '# iotload: keep the embedded bookie on loopback' 'listeningInterface=lo' 'allowLoopback=true' >>"$CONF"
}

start() {
  if ready; then
    echo "pulsar: up on 127.0.0.1:$WEB_PORT (ws + admin) and :$BROKER_PORT"
    install || return 1
    mkdir -p "$LOG_DIR"
    start_auth
    return
  fi
  if pid=$(running_pid); then
    echo "pulsar: pid $pid is starting; waiting"
  else
    if up "$WEB_PORT"; then
      echo "pulsar: 127.0.0.1:$WEB_PORT is taken by something that is not Pulsar; set PULSAR_WEB_PORT" >&2
      return 1
    fi
    install || return 1
    write_conf
    echo "pulsar: starting $PULSAR_VERSION standalone; logs in $LOG_DIR (stdout: $LOG_DIR/stdout.log)"
    # The default heap (2 GB + 4 GB direct) is too much for a 2-core CI box running other brokers too.
    # -nss: no BookKeeper stream storage (table service), which standalone starts otherwise.
    (
      cd "$HOME_DIR" || exit 1
      PULSAR_STANDALONE_CONF=$CONF \
        PULSAR_LOG_DIR=$LOG_DIR \
        PULSAR_MEM=${PULSAR_MEM:-"-Xms256m -Xmx512m -XX:MaxDirectMemorySize=256m"} \
        PULSAR_GC=${PULSAR_GC:-"-XX:+UseG1GC"} \
        exec setsid nohup bin/pulsar standalone --no-functions-worker -nss \
        --bookkeeper-dir "$DATA_DIR/bookkeeper" --metadata-dir "$DATA_DIR/metadata" \
        >"$LOG_DIR/stdout.log" 2>&1 </dev/null
    ) &
    echo $! >"$PID_FILE"
  fi
  # Tokens and the auth proxy's JVM start while the broker boots (the proxy connects lazily).
  start_auth >"$LOG_DIR/auth-start.out" 2>&1 &
  local auth_job=$!
  local t0=$SECONDS
  while ((SECONDS - t0 < WAIT_S)); do
    if ready; then
      echo "pulsar: up on 127.0.0.1:$WEB_PORT (ws + admin) and :$BROKER_PORT after $((SECONDS - t0)) s (pid $(cat "$PID_FILE"))"
      wait "$auth_job"
      local rc=$?
      cat "$LOG_DIR/auth-start.out"
      return $rc
    fi
    if ! running_pid >/dev/null; then
      echo "pulsar: process exited; last log lines:" >&2
      tail -30 "$LOG_DIR/stdout.log" >&2
      return 1
    fi
    sleep 1
  done
  echo "pulsar: public/default did not appear within $WAIT_S s; see $LOG_DIR/stdout.log" >&2
  tail -30 "$LOG_DIR/stdout.log" >&2
  return 1
}

# A token-auth WebSocket proxy in front of the broker, so a wrong token meets a real 401.
start_auth() {
  if up "$AUTH_PORT"; then echo "pulsar: token-auth WebSocket proxy up on :$AUTH_PORT"; start_binary_auth; return $?; fi
  mkdir -p "$AUTH_DIR"
  if [ ! -s "$AUTH_DIR/secret.key" ] || [ ! -s "$AUTH_DIR/token" ]; then
    (cd "$HOME_DIR" && PULSAR_MEM="-Xmx128m" bin/pulsar tokens create-secret-key --output "$AUTH_DIR/secret.key") \
      >"$LOG_DIR/tokens.log" 2>&1 || { echo "pulsar: creating the secret key failed, see $LOG_DIR/tokens.log" >&2; return 1; }
    (cd "$HOME_DIR" && PULSAR_MEM="-Xmx128m" bin/pulsar tokens create --secret-key "file://$AUTH_DIR/secret.key" \
      --subject iotload-test) >"$AUTH_DIR/token.tmp" 2>>"$LOG_DIR/tokens.log" &&
      mv "$AUTH_DIR/token.tmp" "$AUTH_DIR/token" || { echo "pulsar: creating the token failed" >&2; return 1; }
  fi
  cat >"$AUTH_DIR/websocket.conf" <<CONF
serviceUrl=http://127.0.0.1:$WEB_PORT
brokerServiceUrl=pulsar://127.0.0.1:$BROKER_PORT
webServicePort=$AUTH_PORT
clusterName=standalone
authenticationEnabled=true
authenticationProviders=org.apache.pulsar.broker.authentication.AuthenticationProviderToken
tokenSecretKey=file://$AUTH_DIR/secret.key
authorizationEnabled=false
webSocketSessionIdleTimeoutMillis=300000
webSocketMaxTextFrameSize=1048576
CONF
  (
    cd "$HOME_DIR" || exit 1
    PULSAR_WEBSOCKET_CONF=$AUTH_DIR/websocket.conf PULSAR_LOG_DIR=$LOG_DIR \
      PULSAR_MEM="-Xms64m -Xmx192m -XX:MaxDirectMemorySize=128m" PULSAR_GC="-XX:+UseG1GC" \
      exec setsid nohup bin/pulsar websocket >"$LOG_DIR/ws-auth.log" 2>&1 </dev/null
  ) &
  echo $! >"$AUTH_PID_FILE"
  for _ in $(seq 1 90); do
    if up "$AUTH_PORT"; then
      echo "pulsar: token-auth WebSocket proxy up on :$AUTH_PORT (token: $AUTH_DIR/token)"
      start_binary_auth
      return $?
    fi
    auth_pid >/dev/null || break
    sleep 1
  done
  echo "pulsar: token-auth WebSocket proxy did not start; see $LOG_DIR/ws-auth.log" >&2
  tail -20 "$LOG_DIR/ws-auth.log" >&2
  return 1
}

# A Pulsar proxy with token auth in front of the broker, for the binary protocol's auth tests.
start_binary_auth() {
  if up "$BIN_AUTH_PORT"; then echo "pulsar: token-auth binary proxy up on :$BIN_AUTH_PORT"; return 0; fi
  cat >"$AUTH_DIR/proxy.conf" <<CONF
brokerServiceURL=pulsar://127.0.0.1:$BROKER_PORT
brokerWebServiceURL=http://127.0.0.1:$WEB_PORT
bindAddress=127.0.0.1
advertisedAddress=127.0.0.1
servicePort=$BIN_AUTH_PORT
webServicePort=$BIN_AUTH_WEB_PORT
clusterName=standalone
authenticationEnabled=true
authenticationProviders=org.apache.pulsar.broker.authentication.AuthenticationProviderToken
tokenSecretKey=file://$AUTH_DIR/secret.key
authorizationEnabled=false
CONF
  (
    cd "$HOME_DIR" || exit 1
    PULSAR_PROXY_CONF=$AUTH_DIR/proxy.conf PULSAR_LOG_DIR=$LOG_DIR PULSAR_LOG_FILE=pulsar-binary-auth.log \
      PULSAR_MEM="-Xms64m -Xmx192m -XX:MaxDirectMemorySize=128m" PULSAR_GC="-XX:+UseG1GC" \
      exec setsid nohup bin/pulsar proxy >"$LOG_DIR/binary-auth.log" 2>&1 </dev/null
  ) &
  echo $! >"$BIN_AUTH_PID_FILE"
  for _ in $(seq 1 90); do
    if up "$BIN_AUTH_PORT"; then echo "pulsar: token-auth binary proxy up on :$BIN_AUTH_PORT"; return 0; fi
    bin_auth_pid >/dev/null || break
    sleep 1
  done
  echo "pulsar: token-auth binary proxy did not start; see $LOG_DIR/binary-auth.log" >&2
  tail -20 "$LOG_DIR/binary-auth.log" >&2
  return 1
}

stop_pid() { # name pid
  echo "pulsar: stopping $1 (pid $2)"
  kill "$2"
  for _ in $(seq 1 30); do kill -0 "$2" 2>/dev/null || break; sleep 1; done
  kill -0 "$2" 2>/dev/null && kill -9 "$2"
}

stop() {
  local pid
  if pid=$(auth_pid); then stop_pid "token-auth proxy" "$pid"; fi
  rm -f "$AUTH_PID_FILE"
  if pid=$(bin_auth_pid); then stop_pid "token-auth binary proxy" "$pid"; fi
  rm -f "$BIN_AUTH_PID_FILE"

  if ! pid=$(running_pid); then echo "pulsar: not running (from this script)"; rm -f "$PID_FILE"; return 0; fi
  stop_pid broker "$pid"
  rm -f "$PID_FILE"
  echo "pulsar: stopped"
}

status() {
  if ready; then echo "pulsar: up on 127.0.0.1:$WEB_PORT (ws + admin) and :$BROKER_PORT; logs in $LOG_DIR"
  elif pid=$(running_pid); then echo "pulsar: pid $pid running but not ready; logs in $LOG_DIR"
  else echo "pulsar: DOWN"; fi
  if up "$AUTH_PORT"; then echo "pulsar: token-auth WebSocket proxy up on :$AUTH_PORT"
  else echo "pulsar: token-auth WebSocket proxy DOWN"; fi
  if up "$BIN_AUTH_PORT"; then echo "pulsar: token-auth binary proxy up on :$BIN_AUTH_PORT"
  else echo "pulsar: token-auth binary proxy DOWN"; fi
}

case $cmd in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
