#!/usr/bin/env bash
# Upload benchmark: one agent-style signed multipart upload of SIZE_MIB (default 512) MiB of random bytes to the
# console, directly and through nginx with the shipped template (the baseline and the proxied run, same process).
# Prints throughput and the console's RSS (before, after, peak): uploads are streamed, so memory must stay flat.
# Needs release builds (cargo build --release -p manager -p console), the local MariaDB and Redis, and nginx.
# Usage: crates/console/bench/upload.sh   (loopback ports 38443, 38543, 38080; its own databases, dropped after)
set -euo pipefail
cd "$(dirname "$0")/../../.."
id=ezm_ubench
work=$(mktemp -d)
export EZM__CONSOLE_MYSQL__DATABASE=${id}_console EZM__LOGS_MYSQL__DATABASE=${id}_logs EZM__REDIS__KEY_PREFIX="${id}:"
export EZM_SECRET=bench-$RANDOM$RANDOM EZM__LOG__FORMAT=json EZM__CONSOLE__STORAGE_DIR=$work/store
export MANAGER_PORT=38543 CONSOLE_PORT=38443 EZM__MANAGER__HOST=127.0.0.1 EZM__CONSOLE__HOST=127.0.0.1
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; [ -n "${npid:-}" ] && kill -QUIT "$npid" 2>/dev/null; mysql -h127.0.0.1 -uroot -e "DROP DATABASE IF EXISTS ${id}_console; DROP DATABASE IF EXISTS ${id}_logs"; rm -rf "$work"; }
trap cleanup EXIT
target/release/manager >"$work/m.log" 2>&1 & pids+=($!)
for _ in $(seq 100); do curl -sf http://127.0.0.1:38543/readyz >/dev/null && break; sleep 0.2; done
target/release/console >"$work/c.log" 2>&1 & cpid=$!; pids+=("$cpid")
for _ in $(seq 100); do curl -sf http://127.0.0.1:38443/readyz >/dev/null && break; sleep 0.2; done
head -c $((${SIZE_MIB:-512} << 20)) /dev/urandom >"$work/big.bin"
eval "$(NGINX_TEST_PORT=38080 NGINX_TEST_CONSOLE_PORT=38443 NGINX_TEST_MANAGER_PORT=38543 NGINX_TEST_WS_PORT=39190 nginx/test.sh --serve | grep '^NGINX_TEST_')"
npid=$(cat "$NGINX_TEST_PIDFILE")
upload() { # base host label
  local fid token nonce ts sig
  token=tok$RANDOM$RANDOM
  fid=$(mysql -h127.0.0.1 -uroot -N ${id}_console -e "INSERT INTO files (app, agent, type, file, user, status, token) VALUES (1, 'vm', 'heapsnapshot', '/x/$3-$RANDOM.heapsnapshot', 1, 2, '$token'); SELECT LAST_INSERT_ID();")
  nonce=$RANDOM$RANDOM; ts=$(($(date +%s%N) / 1000000))
  sig=$(python3 -c "import hmac,hashlib,json,sys; print(hmac.new(sys.argv[1].encode(), json.dumps({'agentId':'vm','fileId':sys.argv[2],'fileType':'heapsnapshot','nonce':sys.argv[3],'timestamp':sys.argv[4]},separators=(',',':')).encode(), hashlib.sha1).hexdigest())" "$token" "$fid" "$nonce" "$ts")
  local before; before=$(grep VmRSS /proc/$cpid/status | awk '{print $2}')
  curl -s -o "$work/out.json" -w "$3: %{http_code} %{size_upload} bytes in %{time_total} s = %{speed_upload} B/s\n" -H "Host: $2" \
    -F "big.heapsnapshot=@$work/big.bin;type=application/gzip" \
    "$1/xapi/upload_from_xtransit?fileId=$fid&fileType=heapsnapshot&nonce=$nonce&timestamp=$ts&signature=$sig"
  echo "   reply $(head -c 120 "$work/out.json"); console RSS before ${before} kB, now $(grep VmRSS /proc/$cpid/status | awk '{print $2}') kB, peak $(grep VmHWM /proc/$cpid/status | awk '{print $2}') kB"
}
upload http://127.0.0.1:38443 127.0.0.1 direct
upload http://127.0.0.1:38080 console.example.com through-nginx
find "$work/store" -type f -printf "stored %s bytes: %f\n"
