#!/usr/bin/env bash
# RabbitMQ's MQTT plugin on 127.0.0.1:1884, beside the shared RabbitMQ's AMQP on :5672 and
# Mosquitto on :1883, enabled on the running node: RabbitMQ is never restarted.
#
#   bash scripts/services/rabbitmq-mqtt.sh start|stop|status
#
# start is idempotent. The listener is set in two places before the plugin starts:
#   - the running node: rabbitmq_mqtt's tcp_listeners, set with `persistent` so loading the
#     plugin's application does not put back its default (1883, Mosquitto's port);
#   - /etc/rabbitmq/conf.d/90-iotload-mqtt.conf, so a later restart of RabbitMQ (the plugin
#     stays in enabled_plugins) listens on the same port instead of failing on 1883.
# Environment: RABBITMQ_MQTT_PORT (default 1884).
set -euo pipefail

cmd=${1:-status}
PORT=${RABBITMQ_MQTT_PORT:-1884}
CONF_DIR=/etc/rabbitmq/conf.d
CONF=$CONF_DIR/90-iotload-mqtt.conf
say() { echo "rabbitmq-mqtt: $*"; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# The node's own view: an MQTT listener on our port.
listening() { rabbitmqctl -q status 2>/dev/null | grep -Eq "port: $PORT, protocol: mqtt"; }

start() {
  command -v rabbitmqctl >/dev/null || { say "rabbitmqctl not found (is RabbitMQ installed?)" >&2; exit 1; }
  if ! port_open 5672; then say "RabbitMQ is not up on :5672 (scripts/services/preinstalled.sh start)" >&2; exit 1; fi
  if listening; then say "up on 127.0.0.1:$PORT (RabbitMQ's MQTT plugin)"; return 0; fi
  if port_open "$PORT"; then say "port $PORT is taken by something else; set RABBITMQ_MQTT_PORT" >&2; exit 1; fi
  mkdir -p "$CONF_DIR"
  printf '# Written by iotload scripts/services/rabbitmq-mqtt.sh: MQTT beside Mosquitto (:1883).\nmqtt.listeners.tcp.default = 127.0.0.1:%s\n' "$PORT" >"$CONF"
  rabbitmqctl -q eval "application:set_env(rabbitmq_mqtt, tcp_listeners, [{\"127.0.0.1\", $PORT}], [{persistent, true}])." >/dev/null
  if rabbitmq-plugins -q list -e rabbitmq_mqtt 2>/dev/null | grep -q rabbitmq_mqtt; then
    # Enabled already but on another port: restart the plugin's application, not the node.
    rabbitmqctl -q eval 'application:stop(rabbitmq_mqtt), application:start(rabbitmq_mqtt).' >/dev/null
  else
    rabbitmq-plugins -q enable rabbitmq_mqtt
  fi
  for _ in $(seq 1 30); do
    if listening && port_open "$PORT"; then say "up on 127.0.0.1:$PORT (RabbitMQ's MQTT plugin)"; return 0; fi
    sleep 1
  done
  say "the MQTT plugin did not listen on :$PORT" >&2
  exit 1
}

stop() {
  rabbitmq-plugins -q disable rabbitmq_mqtt && say "plugin disabled (RabbitMQ keeps running)"
}

status() {
  if listening; then say "up on 127.0.0.1:$PORT"; else say "DOWN"; return 3; fi
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
