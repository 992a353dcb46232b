#!/usr/bin/env bash
# The browser tests: starts a private stack (stack.sh: the three services from target/debug on their own ports,
# databases and Redis prefix), then drives Debian's chromium through playwright-core against it with the real
# xtransit + xprofiler agent. Screenshots go to $EZM_E2E_SHOTS (printed at the end). Needs: a cargo build of the
# services, the UI built into dist/ (the console serves it), the agent cache
# (crates/ws-server/tests/real-agent/install.sh), /usr/bin/chromium.
#   run.sh       the web UI (run.mjs, which starts the agent for the app it creates in the browser)
#   run.sh xui   the original xui 1.0.5 bundle (../shared/fixtures) served with console.ui_dir and the Basic
#                challenge, with the demo app and agent stack.sh starts (xui.mjs)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
scenario=${1:-ui}
case "$scenario" in
  ui)
    script=run.mjs stack_args=()
    export EZM_E2E_STATE=${EZM_E2E_STATE:-$HOME/.cache/easy-monitor/e2e-ci} EZM_E2E_NAME=${EZM_E2E_NAME:-ezm_e2e_ci}
    export E2E_CONSOLE_PORT=${E2E_CONSOLE_PORT:-28443} E2E_MANAGER_PORT=${E2E_MANAGER_PORT:-28543} E2E_WS_PORT=${E2E_WS_PORT:-29190}
    export EZM__CONSOLE__SELF_REGISTRATION=true
    export EZM_E2E_SHOTS=${EZM_E2E_SHOTS:-$here/out} ;;
  xui)
    script=xui.mjs stack_args=(--demo)
    bundle=$(cd "$here/../../../../../shared/fixtures/xprofiler-console-1.0.5-ui" && pwd)
    export EZM_E2E_STATE=${EZM_E2E_STATE:-$HOME/.cache/easy-monitor/e2e-xui} EZM_E2E_NAME=${EZM_E2E_NAME:-ezm_e2e_xui}
    export E2E_CONSOLE_PORT=${E2E_CONSOLE_PORT:-28444} E2E_MANAGER_PORT=${E2E_MANAGER_PORT:-28544} E2E_WS_PORT=${E2E_WS_PORT:-29191}
    export EZM__CONSOLE__UI_DIR=$bundle EZM__CONSOLE__BASIC_CHALLENGE=true
    # The demo agent reports every second instead of every minute, so the charts have data at once.
    export XPROFILER_LOG_INTERVAL=1 UNIT_TEST_TRANSIT_LOG_INTERVAL=1 EZM_HEARTBEAT=5
    export EZM_E2E_SHOTS=${EZM_E2E_SHOTS:-$here/out-xui} ;;
  *) echo "usage: $0 [xui]" >&2; exit 64 ;;
esac
rm -rf "$EZM_E2E_SHOTS" && mkdir -p "$EZM_E2E_SHOTS"
rm -f "$EZM_E2E_STATE/stack.env"
"$here/stack.sh" "${stack_args[@]}" >"$EZM_E2E_SHOTS/stack.out" 2>&1 &
stack=$!
trap 'kill $stack 2>/dev/null || true; wait $stack 2>/dev/null || true' EXIT
# The stack is up when stack.sh wrote its settings (and, with the demo, the demo app's id).
ready() { [ -f "$EZM_E2E_STATE/stack.env" ] && { [ ${#stack_args[@]} -eq 0 ] || grep -q '^E2E_DEMO_APP=' "$EZM_E2E_STATE/stack.env"; }; }
for _ in $(seq 1 300); do ready && break; kill -0 $stack 2>/dev/null || { cat "$EZM_E2E_SHOTS/stack.out"; exit 1; }; sleep 0.2; done
ready || { echo "the stack did not come up within 60 s" >&2; cat "$EZM_E2E_SHOTS/stack.out"; exit 1; }
set -a; source "$EZM_E2E_STATE/stack.env"; set +a
node "$here/$script"  # its exit status is the script's (the trap keeps it)
