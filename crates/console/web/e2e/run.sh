#!/usr/bin/env bash
# The browser tests: starts a private stack (stack.sh: the three services from target/debug on their own ports,
# databases and Redis prefix), then drives Debian's chromium through playwright-core (run.mjs) against it with the
# real xtransit + xprofiler agent, which run.mjs starts for the app it creates in the browser. Screenshots of every
# main page in both languages go to $EZM_E2E_SHOTS (printed at the end). Needs: a cargo build of the services,
# the UI built into dist/ (the console serves it), the agent cache (crates/ws-server/tests/real-agent/install.sh),
# /usr/bin/chromium.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export EZM_E2E_STATE=${EZM_E2E_STATE:-$HOME/.cache/easy-monitor/e2e-ci}
export EZM_E2E_NAME=${EZM_E2E_NAME:-ezm_e2e_ci}
export E2E_CONSOLE_PORT=${E2E_CONSOLE_PORT:-28443} E2E_MANAGER_PORT=${E2E_MANAGER_PORT:-28543} E2E_WS_PORT=${E2E_WS_PORT:-29190}
export EZM__CONSOLE__SELF_REGISTRATION=true
export EZM_E2E_SHOTS=${EZM_E2E_SHOTS:-$here/out}
rm -rf "$EZM_E2E_SHOTS" && mkdir -p "$EZM_E2E_SHOTS"
rm -f "$EZM_E2E_STATE/stack.env"
"$here/stack.sh" >"$EZM_E2E_SHOTS/stack.out" 2>&1 &
stack=$!
trap 'kill $stack 2>/dev/null || true; wait $stack 2>/dev/null || true' EXIT
for _ in $(seq 1 150); do [ -f "$EZM_E2E_STATE/stack.env" ] && break; kill -0 $stack 2>/dev/null || { cat "$EZM_E2E_SHOTS/stack.out"; exit 1; }; sleep 0.2; done
set -a; source "$EZM_E2E_STATE/stack.env"; set +a
node "$here/run.mjs"  # its exit status is the script's (the trap keeps it)
