#!/usr/bin/env bash
# Entry point of the demo image (deploy/demo/Dockerfile): a small Node.js app with xprofiler (app.js) and the real
# xtransit agent (agent.js) reporting it to easy-monitor. Waits for the app id that compose's demo-setup writes,
# then runs both and exits when either exits (compose restarts the container).
#
# Environment: EZM_SERVER (required, the ws-server URL, e.g. ws://ws.localhost:8080/ through nginx),
#   EZM_SECRETS_DIR (/run/ezm/demo, compose's demo secrets volume: demo_app_id and demo_app_secret),
#   EZM_DEMO_STATE (/var/lib/ezm-demo), EZM_HEARTBEAT (60 s), EZM_DEMO_ERROR_EVERY (60 s between sample error-log
#   entries; 0 = none), EZM_DEMO_WAIT_SECS (300), EZM_DEMO_APP_DIR (/app: app.js, agent.js, package.json and
#   node_modules).
set -euo pipefail

secrets=${EZM_SECRETS_DIR:-/run/ezm/demo}
state=${EZM_DEMO_STATE:-/var/lib/ezm-demo}
app_dir=${EZM_DEMO_APP_DIR:-/app}
log() { echo "demo: $*" >&2; }

: "${EZM_SERVER:?set EZM_SERVER to the ws-server URL, e.g. ws://ws.localhost:8080/}"

wait_secs=${EZM_DEMO_WAIT_SECS:-300}
for ((i = 0; ; i++)); do
  [ -s "$secrets/demo_app_id" ] && [ -s "$secrets/demo_app_secret" ] && break
  if ((i >= wait_secs)); then
    log "no $secrets/demo_app_id after ${wait_secs} s: did the demo-setup service run? (docker compose logs demo-setup)"
    exit 1
  fi
  if ((i % 15 == 0)); then log "waiting for $secrets/demo_app_id (written by demo-setup)"; fi
  sleep 1
done
app_id=$(<"$secrets/demo_app_id")
app_secret=$(<"$secrets/demo_app_secret")

# xprofiler writes its logs where xtransit reads them: one absolute directory for both.
mkdir -p "$state/logs"
touch "$state/app-error.log"
export XPROFILER_PREFIX="$state" XTRANSIT_PREFIX="$state" XPROFILER_LOG_DIR="$state/logs" ERROR_LOG="$state/app-error.log"

pids=()
stop() {
  trap - TERM INT
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap 'stop; exit 143' TERM
trap 'stop; exit 130' INT

# The app answers HTTP requests it sends to itself every 200 ms, so HTTP metrics flow without outside traffic.
node "$app_dir/app.js" &
app=$!
pids+=("$app")
EZM_APP_ID=$app_id EZM_APP_SECRET=$app_secret EZM_LOG_DIR="$state/logs" EZM_HEARTBEAT=${EZM_HEARTBEAT:-60} \
  EZM_PACKAGE="$app_dir/package.json" node "$app_dir/agent.js" &
pids+=($!)
log "app $app_id reporting to $EZM_SERVER (app pid $app, agent pid $!, logs in $state)"

# A sample error-log entry now and then (app.js appends one on SIGUSR2), so the error-log view has data.
every=${EZM_DEMO_ERROR_EVERY:-60}
if [ "$every" -gt 0 ]; then
  (while sleep "$every"; do kill -USR2 "$app" 2>/dev/null || exit 0; done) &
  pids+=($!)
fi

# Exit when either node process exits, taking the other one down with it.
status=0
wait -n "${pids[0]}" "${pids[1]}" || status=$?
log "a process exited (status $status): stopping"
stop
exit "$status"
