#!/usr/bin/env bash
# Installs one pinned PyPI package into its own venv outside the repository, for a test that needs a tool from
# PyPI (moto's S3 server, aiosmtpd). Idempotent: does nothing when that version is already there.
#   deploy/local/pip-venv.sh VENV_NAME DISTRIBUTION VERSION [REQUIREMENT]   (REQUIREMENT defaults to DIST==VERSION)
# The venv is $EZM_TOOLS_DIR/VENV_NAME (default ~/.cache/easy-monitor); the tests look in the same place.
set -euo pipefail
name=$1 dist=$2 version=$3 requirement=${4:-$2==$3}
tools=${EZM_TOOLS_DIR:-$HOME/.cache/easy-monitor}
venv="$tools/$name"

installed() {
  [ -x "$venv/bin/python" ] \
    && "$venv/bin/python" -c 'import sys, importlib.metadata as m; sys.exit(m.version(sys.argv[1]) != sys.argv[2])' \
      "$dist" "$version" 2>/dev/null
}

if installed; then
  echo "$dist $version already installed in $venv"
  exit 0
fi
echo "installing $requirement into $venv"
mkdir -p "$tools"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check "$requirement"
installed || { echo "$dist $version missing from $venv after the install" >&2; exit 1; }
echo "$dist $version installed in $venv"
