#!/usr/bin/env bash
# Installs moto's S3-compatible test server (PyPI `moto[server]`, pinned) into a venv outside the repository, for
# crates/console/tests/storage_s3.rs. Idempotent: does nothing when that version is already there.
# Override the place with EZM_TOOLS_DIR (default ~/.cache/easy-monitor); the test looks in the same place.
set -euo pipefail
moto_version=5.2.5
tools=${EZM_TOOLS_DIR:-$HOME/.cache/easy-monitor}
venv="$tools/moto-venv"

installed() {
  [ -x "$venv/bin/moto_server" ] \
    && "$venv/bin/python" -c 'import sys, importlib.metadata as m; sys.exit(m.version("moto") != sys.argv[1])' \
      "$moto_version" 2>/dev/null
}

if installed; then
  echo "moto $moto_version already installed in $venv"
  exit 0
fi
echo "installing moto[server]==$moto_version into $venv"
mkdir -p "$tools"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check "moto[server]==$moto_version"
installed || { echo "moto_server missing from $venv after the install" >&2; exit 1; }
echo "moto $moto_version installed: $venv/bin/moto_server"
