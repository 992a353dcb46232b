#!/usr/bin/env bash
# Tests nginx/templates/easy-monitor.conf.template without Docker: renders it with nginx/render.sh (upstreams on
# 127.0.0.1, server blocks on one loopback port), checks it with `nginx -t`, runs a private nginx and checks routing.
#
# Usage: nginx/test.sh [--config-only | --serve] [--require-up]
#   (no flag)      nginx -t, start nginx, send GET /healthz with each Host header, check which upstream got it
#                  (from the access log) and the status: 200 where the upstream runs, 502 where it does not; a
#                  WebSocket handshake to the ws domain must get 101 when the ws-server runs; from 127.0.0.2 (not
#                  in the allow-list) the manager domain and the ws domain's /xapi/ must get 403. Stops nginx.
#   --config-only  only render and `nginx -t`.
#   --serve        nginx -t, start nginx and leave it running for a caller to drive traffic through; prints
#                    NGINX_TEST_PORT=<port>  NGINX_TEST_PIDFILE=<file>  NGINX_TEST_DIR=<dir>
#                  one per line. Stop it with `kill -QUIT "$(cat <file>)"`, then remove <dir>.
#   --require-up   every upstream must answer (200, and 101 for the WebSocket handshake); otherwise a down
#                  upstream only has to be routed to.
# Environment: NGINX_TEST_PORT (18080), NGINX_TEST_WS_PORT (9190), NGINX_TEST_MANAGER_PORT (8543),
#   NGINX_TEST_CONSOLE_PORT (8443), NGINX_TEST_{CONSOLE,WS,MANAGER}_DOMAIN (console|ws|manager.example.com),
#   NGINX_BIN (nginx on PATH or /usr/sbin/nginx).
# Installs Debian's nginx (nginx, else nginx-light) with apt-get when none is found (needs root).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src="$here/templates/easy-monitor.conf.template"
console_domain=${NGINX_TEST_CONSOLE_DOMAIN:-console.example.com}
ws_domain=${NGINX_TEST_WS_DOMAIN:-ws.example.com}
manager_domain=${NGINX_TEST_MANAGER_DOMAIN:-manager.example.com}
port=${NGINX_TEST_PORT:-18080}
ws_port=${NGINX_TEST_WS_PORT:-9190}
manager_port=${NGINX_TEST_MANAGER_PORT:-8543}
console_port=${NGINX_TEST_CONSOLE_PORT:-8443}

mode=check
require_up=0
for arg in "$@"; do
  case "$arg" in
    --config-only) mode=config ;;
    --serve) mode=serve ;;
    --require-up) require_up=1 ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "unknown argument: $arg (see --help)" >&2; exit 2 ;;
  esac
done
for p in "$port" "$ws_port" "$manager_port" "$console_port"; do
  [[ "$p" =~ ^[0-9]+$ ]] || { echo "not a port: $p" >&2; exit 2; }
done

log() { echo "nginx-test: $*"; }
fail() { echo "nginx-test: FAIL: $*" >&2; exit 1; }

# ---- nginx binary ----------------------------------------------------------------------------------------------
find_nginx() {
  if [ -n "${NGINX_BIN:-}" ]; then echo "$NGINX_BIN"; return 0; fi
  command -v nginx 2>/dev/null && return 0
  [ -x /usr/sbin/nginx ] && { echo /usr/sbin/nginx; return 0; }
  return 1
}
if ! nginx_bin=$(find_nginx); then
  [ "$(id -u)" -eq 0 ] || fail "nginx is not installed and installing it needs root (apt-get install nginx)"
  log "installing nginx from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt_log=$(mktemp)
  apt_install() { apt-get install -y -q --no-install-recommends "$@" >>"$apt_log" 2>&1; }
  # Try with the package lists at hand first; refresh them only when that fails.
  if ! apt_install nginx && ! apt_install nginx-light; then
    apt-get update -q >>"$apt_log" 2>&1 || true
    apt_install nginx || apt_install nginx-light || { tail -20 "$apt_log" >&2; fail "apt-get install nginx failed"; }
  fi
  rm -f "$apt_log"
  nginx_bin=$(find_nginx) || fail "nginx still not found after installing it"
fi
log "using $nginx_bin ($("$nginx_bin" -v 2>&1 | sed 's/^nginx version: //'))"

# ---- private prefix --------------------------------------------------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/ezm-nginx-test.XXXXXX")
pidfile="$work/nginx.pid"
keep=0
cleanup() {
  if [ "$keep" -eq 0 ]; then
    if [ -s "$pidfile" ]; then
      pid=$(cat "$pidfile")
      kill -QUIT "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$work/tmp"

# Render the template with nginx/render.sh: the shipped defaults, except loopback upstreams and listen address.
EZM_HTTP_PORT="127.0.0.1:${port}" EZM_CONSOLE_UPSTREAM="127.0.0.1:${console_port}" \
  EZM_WS_UPSTREAM="127.0.0.1:${ws_port}" EZM_MANAGER_UPSTREAM="127.0.0.1:${manager_port}" \
  EZM_CONSOLE_DOMAIN="$console_domain" EZM_WS_DOMAIN="$ws_domain" EZM_MANAGER_DOMAIN="$manager_domain" \
  "$here/render.sh" >"$work/easy-monitor.conf" || fail "nginx/render.sh failed"
# shellcheck disable=SC2016 # a literal ${EZM_NAME} is what must not be left
! grep -Eq '\$\{EZM_[A-Z_]+\}' "$work/easy-monitor.conf" || fail "rendering left an EZM_ placeholder"

# Temp paths of the compiled-in modules only (nginx-light lacks some), all inside the private prefix.
build_info=$("$nginx_bin" -V 2>&1)
temp_paths="client_body_temp_path $work/tmp/client_body; proxy_temp_path $work/tmp/proxy;"
for m in fastcgi uwsgi scgi; do
  case "$build_info" in
    *"--without-http_${m}_module"*) ;;
    *) temp_paths+=" ${m}_temp_path $work/tmp/$m;" ;;
  esac
done
# As root, workers would otherwise run as nobody and could not write the private temp dirs.
user_line=""
[ "$(id -u)" -eq 0 ] && user_line="user root;"

cat >"$work/nginx.conf" <<EOF
# generated by nginx/test.sh
$user_line
worker_processes 1;
pid $pidfile;
error_log $work/error.log info;
events { worker_connections 1024; }
http {
    log_format ezm_test '\$host \$upstream_addr \$status \$request_uri';
    access_log $work/access.log ezm_test;
    $temp_paths
    include $work/easy-monitor.conf;
}
EOF

# -e (nginx >= 1.19.5) keeps even the start-up error log inside the prefix.
nginx_args=(-p "$work/" -c "$work/nginx.conf")
case "$("$nginx_bin" -h 2>&1)" in *"-e filename"*) nginx_args+=(-e "$work/error.log") ;; esac

log "nginx -t on a rendered copy of $src (upstreams 127.0.0.1:${console_port}/${manager_port}/${ws_port})"
if ! "$nginx_bin" -t -q "${nginx_args[@]}" 2>"$work/t.err"; then
  cat "$work/t.err" >&2
  fail "nginx -t rejected the configuration"
fi
log "ok: configuration is valid"
# Beside a distribution's default site (Debian's sites-enabled/default: `listen 80 default_server`), included after
# this file as nginx.conf does with conf.d/ and sites-enabled/: no duplicate default server.
printf 'server { listen 127.0.0.1:%s default_server; server_name _; return 404; }\n' "$port" >"$work/default-site.conf"
sed "s|include $work/easy-monitor.conf;|include $work/easy-monitor.conf; include $work/default-site.conf;|" \
  "$work/nginx.conf" >"$work/nginx-with-default.conf"
if ! "$nginx_bin" -t -q -p "$work/" -c "$work/nginx-with-default.conf" 2>"$work/t.err"; then
  cat "$work/t.err" >&2
  fail "nginx -t rejected the configuration beside a default_server site"
fi
log "ok: also valid beside a distribution's default_server site"
[ "$mode" = config ] && exit 0

# ---- run -------------------------------------------------------------------------------------------------------
"$nginx_bin" "${nginx_args[@]}" </dev/null >"$work/start.out" 2>&1 || {
  cat "$work/start.out" "$work/error.log" >&2 2>/dev/null || true
  fail "nginx did not start (port $port in use?)"
}
for _ in $(seq 50); do
  if [ -s "$pidfile" ]; then
    # 52 = empty reply: the catch-all server answered by closing (return 444), so nginx is up.
    rc=0; curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$port/" 2>/dev/null || rc=$?
    if [ "$rc" -eq 0 ] || [ "$rc" -eq 52 ]; then break; fi
  fi
  sleep 0.1
done
[ -s "$pidfile" ] || fail "nginx wrote no pid file"
log "nginx running on 127.0.0.1:$port (pid $(cat "$pidfile"))"

if [ "$mode" = serve ]; then
  keep=1
  echo "NGINX_TEST_PORT=$port"
  echo "NGINX_TEST_PIDFILE=$pidfile"
  echo "NGINX_TEST_DIR=$work"
  exit 0
fi

# ---- routing checks --------------------------------------------------------------------------------------------
failures=0
check_fail() { echo "nginx-test: FAIL: $*" >&2; failures=$((failures + 1)); }
ws_up=0

# check HOST UPSTREAM_PORT NAME
check() {
  local host=$1 up_port=$2 name=$3 code routed
  code=$(curl -s -o "$work/body" -w '%{http_code}' --max-time 10 -H "Host: $host" \
    "http://127.0.0.1:$port/healthz" || true)
  routed=$(grep "^$host " "$work/access.log" 2>/dev/null | tail -1 | awk '{print $2}' || true)
  if [ "$routed" != "127.0.0.1:$up_port" ]; then
    check_fail "$host: expected upstream 127.0.0.1:$up_port, nginx used '${routed:-none}' (HTTP $code)"
    return 0
  fi
  case "$code" in
    200) log "ok: $host/healthz -> $name 127.0.0.1:$up_port -> 200"
         if [ "$name" = ws-server ]; then ws_up=1; fi ;;
    502) if [ "$require_up" -eq 1 ]; then
           check_fail "$host/healthz routed to 127.0.0.1:$up_port but $name does not answer (502)"
         else
           log "ok: $host/healthz -> $name 127.0.0.1:$up_port (routed; $name not running: 502)"
         fi ;;
    *) check_fail "$host/healthz routed to 127.0.0.1:$up_port but got HTTP $code: $(head -c 200 "$work/body")" ;;
  esac
}
check "$console_domain" "$console_port" console
check "$ws_domain" "$ws_port" ws-server
check "$manager_domain" "$manager_port" manager

# Unknown hosts are refused by the catch-all block (connection closed, no response).
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H 'Host: unknown.invalid' "http://127.0.0.1:$port/healthz" || true)
if [ "$code" = 000 ]; then log "ok: unknown Host gets no answer (444)"; else check_fail "unknown Host got HTTP $code"; fi

# The manager domain and the ws-server's /xapi/ refuse addresses outside EZM_MANAGER_ALLOW (127.0.0.1 by default):
# 127.0.0.2 is loopback too, but not on the list, so it stands for an outside client.
for target in "$manager_domain /healthz" "$ws_domain /xapi/check_client_alive" "$ws_domain /metrics" \
  "$console_domain /readyz"; do
  read -r host path <<<"$target"
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --interface 127.0.0.2 -H "Host: $host" \
    "http://127.0.0.1:$port$path" || true)
  if [ "$code" = 403 ]; then log "ok: $host$path refuses an outside address (403)"; else
    check_fail "$host$path from 127.0.0.2 got HTTP $code, expected 403"; fi
done

# WebSocket handshake through the proxy (needs a running ws-server behind it).
if [ "$ws_up" -eq 1 ]; then
  head=$(curl -s -i -N --http1.1 --max-time 3 -H "Host: $ws_domain" -H 'Connection: Upgrade' \
    -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13' -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' \
    "http://127.0.0.1:$port/" 2>/dev/null | head -1 | tr -d '\r' || true)
  case "$head" in
    "HTTP/1.1 101"*) log "ok: WebSocket upgrade via $ws_domain -> $head" ;;
    *) check_fail "WebSocket upgrade via $ws_domain got '${head:-no response}'" ;;
  esac
elif [ "$require_up" -eq 1 ]; then
  check_fail "WebSocket upgrade not checked: ws-server is not running"
else
  log "skip: WebSocket upgrade (ws-server not running on 127.0.0.1:$ws_port)"
fi

if [ "$failures" -ne 0 ]; then
  echo "--- error.log" >&2; tail -20 "$work/error.log" >&2 || true
  fail "$failures check(s) failed"
fi
log "all checks passed"
