#!/usr/bin/env bash
# Installs aiosmtpd (PyPI, pinned), the SMTP server of the Python project's aio-libs, into a venv outside the
# repository, for the manager's mail test over STARTTLS with AUTH (crates/manager/tests/api/alarms.rs starts
# crates/manager/tests/smtp/sink.py with it). Idempotent. Override the place with EZM_TOOLS_DIR (default
# ~/.cache/easy-monitor); the test looks in the same place.
set -euo pipefail
version=1.4.6
tools=${EZM_TOOLS_DIR:-$HOME/.cache/easy-monitor}
venv="$tools/aiosmtpd-venv"

installed() {
  [ -x "$venv/bin/python" ] \
    && "$venv/bin/python" -c 'import sys, importlib.metadata as m; sys.exit(m.version("aiosmtpd") != sys.argv[1])' \
      "$version" 2>/dev/null
}

if installed; then
  echo "aiosmtpd $version already installed in $venv"
  exit 0
fi
echo "installing aiosmtpd==$version into $venv"
mkdir -p "$tools"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check "aiosmtpd==$version"
installed || { echo "aiosmtpd missing from $venv after the install" >&2; exit 1; }
echo "aiosmtpd $version installed in $venv"
