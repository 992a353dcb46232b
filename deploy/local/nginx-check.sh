#!/usr/bin/env bash
# Starts the three services (debug builds, own databases and Redis prefix) on spare loopback ports, puts nginx with
# nginx/easy-monitor.conf in front of them, and checks that each domain reaches its service and that the agent
# WebSocket upgrades through it. Cleans up after itself.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
cargo build --locked -p manager -p ws-server -p console
id="ezm_nginx_$$"
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  mysql -h 127.0.0.1 -uroot -e "DROP DATABASE IF EXISTS ${id}_console; DROP DATABASE IF EXISTS ${id}_logs" 2>/dev/null || true
  redis-cli -h 127.0.0.1 --scan --pattern "${id}:*" | xargs -r redis-cli -h 127.0.0.1 del >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
export EZM__CONSOLE_MYSQL__DATABASE=${id}_console EZM__LOGS_MYSQL__DATABASE=${id}_logs EZM__REDIS__KEY_PREFIX="${id}:"
export EZM__SHARED__SECRET="nginx-check-$RANDOM$RANDOM" EZM__LOG__FORMAT=json
export MANAGER_PORT=18543 WSS_PORT=19190 CONSOLE_PORT=18443 MANAGER_BASE_URL=http://127.0.0.1:18543
export EZM__MANAGER__HOST=127.0.0.1 EZM__WS_SERVER__HOST=127.0.0.1 EZM__CONSOLE__HOST=127.0.0.1
target/debug/manager >"$work/manager.log" 2>&1 & pids+=($!)
for _ in $(seq 1 50); do curl -sf http://127.0.0.1:18543/healthz >/dev/null && break; sleep 0.2; done
target/debug/ws-server >"$work/ws.log" 2>&1 & pids+=($!)
target/debug/console >"$work/console.log" 2>&1 & pids+=($!)
for port in 19190 18443; do
  for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
done
NGINX_TEST_WS_PORT=19190 NGINX_TEST_MANAGER_PORT=18543 NGINX_TEST_CONSOLE_PORT=18443 nginx/test.sh --require-up
