#!/usr/bin/env bash
# Starts the three services with ONLY the environment names of the reference deployments (`env -i`: no EZM__*,
# no config file) and checks that each one reaches MariaDB and Redis (/readyz answers 200):
#   1. whyun-docker names: CONSOLE_MYSQL_*, LOGS_MYSQL_*, REDIS_SERVER, REDIS_DB, CONSOLE_BASE_URL,
#      MANAGER_BASE_URL, CONSOLE_PORT, MANAGER_PORT, WSS_PORT. That image has no secret variable, so the services
#      must run on the public default secret and warn about it loudly (checked).
#   2. X-Profiler/all-in-one names: DB_SERVER_HOST, DB_USERNAME, DB_PASSWORD, REDIS_SERVER_HOST, EZM_SECRET. That
#      image fixes the database names (xprofiler_console, xprofiler_logs), the MySQL and Redis ports (3306, 6379)
#      and the service ports (8443/8543/9190), so this part runs against a private MariaDB and Redis started here on
#      127.0.0.2 (default ports, own data directory, removed at the end) and needs the service ports free.
# Both log in as a MariaDB user with a password (created here, dropped at the end) to prove the password is used.
# Usage: deploy/local/env-check.sh [target-dir]   (binaries from target/debug unless given)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-$root/target/debug}
for b in manager ws-server console; do
  [ -x "$bin/$b" ] || { echo "env-check: $bin/$b missing (cargo build -p manager -p ws-server -p console)" >&2; exit 1; }
done
id="ezm_env_$$"
user="ezm_env_$$"
password="pw-$RANDOM$RANDOM"
work=$(mktemp -d)
pids=()
mysql_root() { mysql -h 127.0.0.1 -uroot -N -e "$1"; }
private=()
cleanup() {
  for p in "${pids[@]}" "${private[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  mysql_root "DROP DATABASE IF EXISTS ${id}_console; DROP DATABASE IF EXISTS ${id}_logs; DROP USER IF EXISTS '$user'@'127.0.0.1'" || true
  redis-cli -h 127.0.0.1 -n 15 flushdb >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "env-check: FAIL: $*" >&2; for f in "$work"/*.log; do echo "--- $f" >&2; tail -5 "$f" >&2; done; exit 1; }

mysql_root "CREATE USER '$user'@'127.0.0.1' IDENTIFIED BY '$password';
  GRANT ALL ON \`${id}_console\`.* TO '$user'@'127.0.0.1'; GRANT ALL ON \`${id}_logs\`.* TO '$user'@'127.0.0.1'"

# start NAME PORT VAR=VALUE...: runs one service with exactly these variables (plus PATH) and waits for /readyz.
start() {
  local name=$1 port=$2
  shift 2
  # (in the scratch dir: the console keeps uploads in ./profiler by default)
  (cd "$work" && exec env -i PATH="$PATH" "$@" "$bin/$name") >"$work/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do
    if [ "$(curl -s -o "$work/$name.ready" -w '%{http_code}' "http://127.0.0.1:$port/readyz" 2>/dev/null)" = 200 ]; then
      echo "env-check: ok: $name on $port is ready: $(cat "$work/$name.ready")"
      return 0
    fi
    kill -0 "${pids[-1]}" 2>/dev/null || fail "$name exited"
    sleep 0.2
  done
  fail "$name on $port never became ready"
}
stop_all() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait "${pids[@]}" 2>/dev/null || true
  pids=()
}

# ---- 1. whyun-docker names ---------------------------------------------------------------------------------------
whyun=(
  CONSOLE_MYSQL_HOST=127.0.0.1 CONSOLE_MYSQL_PORT=3306 CONSOLE_MYSQL_USER="$user" CONSOLE_MYSQL_PASSWORD="$password"
  CONSOLE_MYSQL_DATABASE="${id}_console"
  LOGS_MYSQL_HOST=127.0.0.1 LOGS_MYSQL_PORT=3306 LOGS_MYSQL_USER="$user" LOGS_MYSQL_PASSWORD="$password"
  LOGS_MYSQL_DATABASE="${id}_logs"
  REDIS_SERVER=127.0.0.1:6379 REDIS_DB=15
  CONSOLE_BASE_URL=http://127.0.0.1:28443 MANAGER_BASE_URL=http://127.0.0.1:28543
  CONSOLE_PORT=28443 MANAGER_PORT=28543 WSS_PORT=29190
)
echo "env-check: whyun-docker names"
start manager 28543 "${whyun[@]}"
start ws-server 29190 "${whyun[@]}"
start console 28443 "${whyun[@]}"
tables=$(mysql_root "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema IN ('${id}_console', '${id}_logs')")
[ "$tables" -ge 100 ] || fail "the manager created only $tables tables in ${id}_console/${id}_logs"
echo "env-check: ok: the manager created $tables tables in the databases CONSOLE_/LOGS_MYSQL_DATABASE named"
for name in manager ws-server console; do
  grep -q "UNSAFE: the inter-service secret is the public default" "$work/$name.log" \
    || fail "$name did not warn about the public default secret"
  ! grep -q "$password" "$work/$name.log" || fail "$name logged the MySQL password"
done
echo "env-check: ok: all three warn about the public default secret and never log the password"
stop_all

# ---- 2. all-in-one names -----------------------------------------------------------------------------------------
for port in 8443 8543 9190; do
  ! curl -s -o /dev/null "http://127.0.0.1:$port/healthz" || fail "port $port is in use (stop deploy/local/run.sh first)"
done
# A private MariaDB and Redis on 127.0.0.2 with their default ports (the machine's own listen on 127.0.0.1 only).
mariadb-install-db --no-defaults --user="$(id -un)" --auth-root-authentication-method=normal --skip-test-db \
  --datadir="$work/mysql" >"$work/install-db.log" 2>&1 || fail "mariadb-install-db failed"
/usr/sbin/mariadbd --no-defaults --user="$(id -un)" --datadir="$work/mysql" --bind-address=127.0.0.2 --port=3306 \
  --socket="$work/mysql.sock" --pid-file="$work/mysql.pid" --skip-log-bin >"$work/mariadbd.log" 2>&1 &
private+=($!)
redis-server --bind 127.0.0.2 --port 6379 --save "" --appendonly no --dir "$work" >"$work/redis.log" 2>&1 &
private+=($!)
for _ in $(seq 1 100); do
  mysqladmin -h 127.0.0.2 -uroot ping >/dev/null 2>&1 && redis-cli -h 127.0.0.2 ping >/dev/null 2>&1 && break
  sleep 0.1
done
mysql -h 127.0.0.2 -uroot -e "CREATE USER '$user'@'%' IDENTIFIED BY '$password';
  GRANT ALL ON \`xprofiler_console\`.* TO '$user'@'%'; GRANT ALL ON \`xprofiler_logs\`.* TO '$user'@'%'" \
  || fail "the private MariaDB on 127.0.0.2 did not come up"
secret="env-check-$RANDOM$RANDOM$RANDOM"
aio=(DB_SERVER_HOST=127.0.0.2 DB_USERNAME="$user" DB_PASSWORD="$password" REDIS_SERVER_HOST=127.0.0.2 EZM_SECRET="$secret")
echo "env-check: all-in-one names"
start manager 8543 "${aio[@]}"
start ws-server 9190 "${aio[@]}"
start console 8443 "${aio[@]}"
for name in manager ws-server console; do
  ! grep -q "UNSAFE" "$work/$name.log" || fail "$name warned although EZM_SECRET was set"
  ! grep -q "$secret" "$work/$name.log" || fail "$name logged EZM_SECRET"
done
echo "env-check: ok: EZM_SECRET taken (no warning) and never logged"
tables=$(mysql -h 127.0.0.2 -uroot -N -e "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema IN ('xprofiler_console', 'xprofiler_logs')")
[ "$tables" -ge 100 ] || fail "the manager created only $tables tables in xprofiler_console/xprofiler_logs"
echo "env-check: ok: the manager created $tables tables in the fixed all-in-one databases (private server)"
stop_all
echo "env-check: all checks passed"
