#!/usr/bin/env bash
# Starts the three services from a cargo build (target/debug unless EZM_PROFILE=release) on private loopback ports,
# with their own databases and Redis key prefix, for the browser tests and for working on the UI
# (`npm run dev` proxies to the console it starts). With --demo it also creates an app and starts the real
# xtransit + xprofiler agent reporting into it. Ctrl-C (or SIGTERM) stops everything; nothing outside the
# databases ezm_e2e_* , the prefix ezm_e2e: and $EZM_E2E_STATE is touched.
#   E2E_CONSOLE_PORT (18443) E2E_MANAGER_PORT (18543) E2E_WS_PORT (19190) EZM_E2E_STATE (~/.cache/easy-monitor/e2e)
set -euo pipefail
root=$(cd "$(dirname "$0")/../../../.." && pwd)
profile=${EZM_PROFILE:-debug}
bin="$root/target/$profile"
state=${EZM_E2E_STATE:-$HOME/.cache/easy-monitor/e2e}
name=${EZM_E2E_NAME:-ezm_e2e}
console_port=${E2E_CONSOLE_PORT:-18443} manager_port=${E2E_MANAGER_PORT:-18543} ws_port=${E2E_WS_PORT:-19190}
rm -rf "$state" && mkdir -p "$state/logs" "$state/profiler"
mysql -h 127.0.0.1 -uroot -e "DROP DATABASE IF EXISTS ${name}_console; DROP DATABASE IF EXISTS ${name}_logs"
redis-cli -h 127.0.0.1 --scan --pattern "${name}:*" | xargs -r -n 500 redis-cli -h 127.0.0.1 del >/dev/null

export EZM__CONSOLE_MYSQL__DATABASE=${name}_console EZM__LOGS_MYSQL__DATABASE=${name}_logs EZM__REDIS__KEY_PREFIX="${name}:"
export EZM_SECRET=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n') EZM__LOG__FORMAT=${EZM__LOG__FORMAT:-pretty}
export EZM__MANAGER__PORT=$manager_port EZM__MANAGER__HOST=127.0.0.1
export EZM__WS_SERVER__PORT=$ws_port EZM__WS_SERVER__HOST=127.0.0.1 EZM__WS_SERVER__ADVERTISE_ADDRESS=127.0.0.1:$ws_port
export EZM__WS_SERVER__MANAGER_BASE_URL=http://127.0.0.1:$manager_port
export EZM__CONSOLE__PORT=$console_port EZM__CONSOLE__HOST=127.0.0.1 EZM__CONSOLE__MANAGER_BASE_URL=http://127.0.0.1:$manager_port
export EZM__CONSOLE__BASE_URL=http://127.0.0.1:$console_port EZM__CONSOLE__AGENT_SERVER_URL=ws://127.0.0.1:$ws_port
export EZM__CONSOLE__STORAGE_DIR="$state/profiler"
export CONSOLE_ADMIN_USER=${CONSOLE_ADMIN_USER:-admin@localhost}
export CONSOLE_ADMIN_PASSWORD=${CONSOLE_ADMIN_PASSWORD:-$(head -c 9 /dev/urandom | od -An -tx1 | tr -d ' \n')}

pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null' EXIT INT TERM
wait_for() { for _ in $(seq 1 150); do curl -sf "$1" >/dev/null && return 0; sleep 0.2; done; echo "not up: $1" >&2; return 1; }
"$bin/manager" >"$state/manager.log" 2>&1 & pids+=($!)
wait_for "http://127.0.0.1:$manager_port/healthz"
"$bin/ws-server" >"$state/ws-server.log" 2>&1 & pids+=($!)
"$bin/console" >"$state/console.log" 2>&1 & pids+=($!)
wait_for "http://127.0.0.1:$console_port/readyz"
wait_for "http://127.0.0.1:$ws_port/healthz" || true

# Written aside and moved into place: run.sh starts reading it as soon as it exists.
cat >"$state/stack.env.tmp" <<ENV
E2E_CONSOLE=http://127.0.0.1:$console_port
E2E_WS=ws://127.0.0.1:$ws_port
E2E_ADMIN_USER=$CONSOLE_ADMIN_USER
E2E_ADMIN_PASSWORD=$CONSOLE_ADMIN_PASSWORD
E2E_STATE=$state
E2E_DB=${name}
ENV
mv "$state/stack.env.tmp" "$state/stack.env"

if [ "${1:-}" = "--demo" ]; then
  agent=${EZM_AGENT_CACHE:-$HOME/.cache/easy-monitor/agent-3.1.0}
  assets="$root/crates/ws-server/tests/real-agent"
  reply=$(curl -sf -u "$CONSOLE_ADMIN_USER:$CONSOLE_ADMIN_PASSWORD" -H 'content-type: application/json' -H 'x-csrf-token: t' -b 'csrfToken=t' \
    -d '{"newAppName":"demo"}' "http://127.0.0.1:$console_port/xapi/app")
  app_id=$(node -e 'const r=JSON.parse(process.argv[1]);console.log(r.data.appId)' "$reply")
  app_secret=$(node -e 'const r=JSON.parse(process.argv[1]);console.log(r.data.appSecret)' "$reply")
  touch "$state/app-error.log"
  (export NODE_PATH="$agent/node_modules" XPROFILER_PREFIX="$state" XTRANSIT_PREFIX="$state" XPROFILER_LOG_DIR="$state/logs" ERROR_LOG="$state/app-error.log"
   node "$assets/app.js" >"$state/app.log" 2>&1 & echo $! >"$state/app.pid"
   EZM_SERVER=ws://127.0.0.1:$ws_port/ EZM_APP_ID=$app_id EZM_APP_SECRET=$app_secret EZM_LOG_DIR="$state/logs" \
     EZM_HEARTBEAT=${EZM_HEARTBEAT:-10} EZM_PACKAGE="$agent/package.json" node "$assets/agent.js" >"$state/agent.log" 2>&1 & echo $! >"$state/agent.pid")
  pids+=("$(cat "$state/app.pid")" "$(cat "$state/agent.pid")")
  echo "E2E_DEMO_APP=$app_id" >>"$state/stack.env"
fi
cat "$state/stack.env"
echo "stack up (logs in $state); Ctrl-C stops it"
wait
