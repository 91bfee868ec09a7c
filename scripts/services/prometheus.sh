#!/usr/bin/env bash
# Prometheus for the OpenTelemetry integration test: makes sure the Debian package's binary exists.
# It does NOT start a server: the test runs its own prometheus process with a generated config,
# its own port and a temporary --storage.tsdb.path, scraping the iotload run it starts.
#
#   bash scripts/services/prometheus.sh start|stop|status
#
# `start` installs the Debian package `prometheus` when /usr/bin/prometheus is missing (CI runs as
# root; apt is the only source). Debian's package would normally enable a system service; on hosts
# with systemd we mask nothing and start nothing — stop it yourself if you do not want it.
# Environment: PROMETHEUS_BIN (default /usr/bin/prometheus).
set -euo pipefail

cmd=${1:-status}
BIN=${PROMETHEUS_BIN:-/usr/bin/prometheus}

say() { echo "prometheus: $*"; }

start() {
  if [ -x "$BIN" ]; then say "binary present: $("$BIN" --version 2>&1 | head -n1)"; return 0; fi
  if [ "$(id -u)" != 0 ]; then say "$BIN missing; install it with: sudo apt-get install -y prometheus" >&2; exit 1; fi
  say "installing the Debian package (first start only)"
  # policy-rc.d 101 keeps the package's init script from starting a system-wide server.
  local policy=/usr/sbin/policy-rc.d created=0
  if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod +x "$policy"; created=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus >/tmp/iotload-prometheus-apt.log 2>&1 \
    || { apt-get update >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus >>/tmp/iotload-prometheus-apt.log 2>&1; } \
    || { [ $created = 1 ] && rm -f "$policy"; tail -n 20 /tmp/iotload-prometheus-apt.log >&2; say "apt-get install failed" >&2; exit 1; }
  [ $created = 1 ] && rm -f "$policy"
  say "installed: $("$BIN" --version 2>&1 | head -n1)"
}

status() {
  if [ -x "$BIN" ]; then say "binary present: $("$BIN" --version 2>&1 | head -n1) (no server: tests start their own)"
  else say "MISSING ($BIN)"; return 3; fi
}

case "$cmd" in
  start) start ;;
  stop) say "nothing to stop: tests start and stop their own prometheus" ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
