#!/usr/bin/env bash
# Runs the whole stack on this machine against the local MariaDB and Redis: manager (8543), ws-server (9190) and
# console (8443, with its web UI) from release builds, plus a demo Node.js app with the real xprofiler and xtransit agent reporting
# into it. Ctrl-C stops everything. Data goes to the databases xprofiler_console / xprofiler_logs (created if missing).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
# shellcheck source=services.sh
source deploy/local/services.sh
ensure_services
# The console's web UI, embedded by its release build: dependencies installed when missing or older than the
# lockfile, the UI built when missing or older than any of its sources.
web=crates/console/web
if [ ! -d "$web/node_modules" ] || [ "$web/package-lock.json" -nt "$web/node_modules" ]; then
  (cd "$web" && npm ci --no-audit --no-fund)
fi
sources=("$web/src" "$web/public" "$web/index.html" "$web/package-lock.json" "$web/vite.config.ts")
if [ ! -f "$web/dist/index.html" ] || [ -n "$(find "${sources[@]}" -newer "$web/dist/index.html" -print -quit 2>/dev/null)" ]; then
  (cd "$web" && npm run build)
fi
cargo build --release --locked -p manager -p ws-server -p console
crates/ws-server/tests/real-agent/install.sh
state=${EZM_LOCAL_STATE:-$HOME/.cache/easy-monitor/local}
mkdir -p "$state/logs"
# A per-machine shared secret instead of the public default (which the services warn about).
[ -f "$state/secret" ] || head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$state/secret"
export EZM_SECRET="${EZM_SECRET:-$(cat "$state/secret")}" EZM__LOG__FORMAT=${EZM__LOG__FORMAT:-pretty}
export EZM__WS_SERVER__ADVERTISE_ADDRESS=${EZM__WS_SERVER__ADVERTISE_ADDRESS:-127.0.0.1:9190}
export EZM__CONSOLE__STORAGE_DIR=${EZM__CONSOLE__STORAGE_DIR:-$state/profiler}
# The console's first administrator: a password made once for this machine, shown below.
[ -f "$state/admin_password" ] || head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$state/admin_password"
export CONSOLE_ADMIN_USER=${CONSOLE_ADMIN_USER:-admin@localhost} CONSOLE_ADMIN_PASSWORD=${CONSOLE_ADMIN_PASSWORD:-$(cat "$state/admin_password")}

pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; echo stopped' EXIT INT TERM
target/release/manager >"$state/manager.log" 2>&1 & pids+=($!)
for _ in $(seq 1 100); do curl -sf http://127.0.0.1:8543/healthz >/dev/null && break; sleep 0.2; done
target/release/ws-server >"$state/ws-server.log" 2>&1 & pids+=($!)
target/release/console >"$state/console.log" 2>&1 & pids+=($!)
for _ in $(seq 1 100); do curl -sf http://127.0.0.1:8443/healthz >/dev/null && break; sleep 0.2; done

# The demo app, owned by the administrator: created once, its secret kept in the apps table like any other app.
owner=$(mysql -h 127.0.0.1 -uroot xprofiler_console -N -e "SELECT id FROM user WHERE name = '$CONSOLE_ADMIN_USER'")
mysql -h 127.0.0.1 -uroot xprofiler_console -e \
  "INSERT INTO apps (name, owner, secret) SELECT 'demo', $owner, MD5(RAND()) FROM DUAL WHERE NOT EXISTS (SELECT 1 FROM apps WHERE name = 'demo' AND owner = $owner)"
read -r app_id app_secret < <(mysql -h 127.0.0.1 -uroot xprofiler_console -N -e "SELECT id, secret FROM apps WHERE name = 'demo' AND owner = $owner")
agent=${EZM_AGENT_CACHE:-$HOME/.cache/easy-monitor/agent-3.1.0}
assets=crates/ws-server/tests/real-agent
touch "$state/app-error.log"
export NODE_PATH="$agent/node_modules" XPROFILER_PREFIX="$state" XTRANSIT_PREFIX="$state" XPROFILER_LOG_DIR="$state/logs" ERROR_LOG="$state/app-error.log"
node "$assets/app.js" >"$state/app.log" 2>&1 & pids+=($!)
EZM_SERVER=ws://127.0.0.1:9190/ EZM_APP_ID=$app_id EZM_APP_SECRET=$app_secret EZM_LOG_DIR="$state/logs" \
  EZM_HEARTBEAT=60 EZM_PACKAGE="$agent/package.json" node "$assets/agent.js" >"$state/agent.log" 2>&1 & pids+=($!)

cat <<INFO
easy-monitor is running:
  console    http://127.0.0.1:8443   sign in as $CONSOLE_ADMIN_USER with password $CONSOLE_ADMIN_PASSWORD
             (the web UI; its JSON API: /openapi.json; profiles stored in $EZM__CONSOLE__STORAGE_DIR)
  manager    http://127.0.0.1:8543   (/readyz, /metrics)
  ws-server  ws://127.0.0.1:9190     (point agents here; /metrics)
demo app $app_id (secret in xprofiler_console.apps) reports through the real xtransit agent; logs in $state
try: mysql -h 127.0.0.1 -uroot xprofiler_logs -e "SELECT pid, log_time, cpu_now, rss FROM process_\$(date +%d) ORDER BY id DESC LIMIT 5"
Ctrl-C stops everything.
INFO
wait
