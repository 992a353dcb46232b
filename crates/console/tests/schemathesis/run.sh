#!/usr/bin/env bash
# Fuzzes the console's API with schemathesis, driven by the console's own OpenAPI document (/openapi.json): the real
# manager and console (debug builds) on loopback ports, their own databases and Redis prefix, signed in as an
# administrator; any 5xx answer fails. schemathesis is installed once into a cached venv outside the repository.
set -euo pipefail
root=$(cd "$(dirname "$0")/../../../.." && pwd)
cd "$root"
version=4.32.5
hypothesis=6.160.0
# The CPython 3.11 builds here (Debian's 3.11.2, pyenv's 3.11.7) sometimes fail ast.parse with "AST constructor
# recursion depth mismatch" when two threads parse at once; hypothesis parses while it describes its strategies, so
# with two workers the run could fail with a runtime error that is no finding (seen with both interpreters). One
# worker never did in repeated runs; it costs about 15 s.
python=python3
[ -x /usr/bin/python3 ] && python=/usr/bin/python3
venv="$HOME/.cache/easy-monitor/schemathesis-venv"
if ! "$venv/bin/st" --version 2>/dev/null | grep -q "$version" \
    || ! "$venv/bin/python" -c 'import sys, importlib.metadata as m; sys.exit(m.version("hypothesis") != sys.argv[1])' "$hypothesis" 2>/dev/null; then
    echo "installing schemathesis $version with hypothesis $hypothesis into $venv ($("$python" --version))"
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/pip" install --quiet "schemathesis==$version" "hypothesis==$hypothesis"
fi
cargo build --locked -p manager -p console --quiet

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
# The test harness's naming (ezm_t_<unix secs>_<hex>), so that anything a killed run leaves is swept by the next one.
id="$(date +%s)_$(python3 -c 'import secrets; print(secrets.token_hex(4))')"
export EZM__CONSOLE_MYSQL__DATABASE="ezm_t_${id}_console" EZM__LOGS_MYSQL__DATABASE="ezm_t_${id}_logs"
export EZM__REDIS__KEY_PREFIX="ezm_t_${id}:" EZM__SHARED__SECRET="st-$id" EZM__LOG__FILTER=warn EZM__LOG__FORMAT=pretty
export EZM__MANAGER__HOST=127.0.0.1 EZM__MANAGER__PORT="$(free_port)"
export EZM__CONSOLE__HOST=127.0.0.1 EZM__CONSOLE__PORT="$(free_port)"
export EZM__CONSOLE__MANAGER_BASE_URL="http://127.0.0.1:$EZM__MANAGER__PORT"
export EZM__CONSOLE__STORAGE_DIR="$(mktemp -d)"
export CONSOLE_ADMIN_USER=root@example.com CONSOLE_ADMIN_PASSWORD="st-$id-password"
logs=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    mysql -h 127.0.0.1 -uroot -e "DROP DATABASE IF EXISTS \`$EZM__CONSOLE_MYSQL__DATABASE\`; DROP DATABASE IF EXISTS \`$EZM__LOGS_MYSQL__DATABASE\`" || true
    # Keys may hold any byte the fuzzer sent (sign-in failure counters by account name): delete them inside Redis.
    redis-cli -h 127.0.0.1 EVAL "for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end" 0 "ezm_t_${id}:*" >/dev/null || true
    rm -rf "$EZM__CONSOLE__STORAGE_DIR"
}
trap cleanup EXIT
wait_up() {
    for _ in $(seq 1 150); do curl -fsS "$1/healthz" >/dev/null 2>&1 && return 0; sleep 0.2; done
    echo "$1 did not come up; logs in $logs" >&2
    cat "$logs"/*.log >&2
    exit 1
}
target/debug/manager >"$logs/manager.log" 2>&1 & pids+=($!)
wait_up "http://127.0.0.1:$EZM__MANAGER__PORT"
target/debug/console >"$logs/console.log" 2>&1 & pids+=($!)
console="http://127.0.0.1:$EZM__CONSOLE__PORT"
wait_up "$console"

# A session for the administrator, and an app so that app-scoped routes have something to find.
csrf="st-csrf"
session=$(curl -fsS -D - -o /dev/null -X POST "$console/xapi/signin" -H 'content-type: application/json' \
    -H "cookie: csrfToken=$csrf" -H "x-csrf-token: $csrf" \
    -d "{\"name\":\"$CONSOLE_ADMIN_USER\",\"password\":\"$CONSOLE_ADMIN_PASSWORD\"}" \
    | sed -n 's/^[Ss]et-[Cc]ookie: ezm_session=\([0-9a-f]*\);.*/\1/p')
[ -n "$session" ] || { echo "sign-in failed" >&2; cat "$logs/console.log" >&2; exit 1; }
curl -fsS -X POST "$console/xapi/app" -H 'content-type: application/json' -H "cookie: csrfToken=$csrf; ezm_session=$session" \
    -H "x-csrf-token: $csrf" -d '{"newAppName":"fuzzed"}' >/dev/null

echo "schemathesis $version against $console/openapi.json (any 5xx fails)"
status=0
"$venv/bin/st" run "$console/openapi.json" \
    --checks not_a_server_error \
    --header "cookie: csrfToken=$csrf; ezm_session=$session" --header "x-csrf-token: $csrf" \
    --exclude-path /xapi/signout \
    --max-examples 30 --request-timeout 20 --workers 1 --generation-deterministic || status=$?
if [ "$status" -ne 0 ]; then
    echo "schemathesis found failures; the console's log:" >&2
    grep -E "ERROR|panicked" "$logs/console.log" | tail -40 >&2 || true
fi
exit "$status"
