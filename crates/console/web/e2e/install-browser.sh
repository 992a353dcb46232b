#!/usr/bin/env bash
# Installs what the browser tests need from Debian when it is missing (needs root): chromium (driven by
# playwright-core through executablePath; no downloaded browsers) and a CJK font, so Chinese pages render in the
# screenshots instead of boxes. Idempotent.
set -euo pipefail
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
fc-list 2>/dev/null | grep -qi "wenquanyi\|noto sans cjk" || need+=(fonts-wqy-zenhei)
[ ${#need[@]} -eq 0 ] && { echo "browser test dependencies present"; exit 0; }
[ "$(id -u)" -eq 0 ] || { echo "missing ${need[*]}; installing them needs root (apt-get install ${need[*]})" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
if ! apt-get install -y -q --no-install-recommends "${need[@]}" >>"$log" 2>&1; then
  apt-get update -q >>"$log" 2>&1 || true
  apt-get install -y -q --no-install-recommends "${need[@]}" >>"$log" 2>&1 || { tail -20 "$log" >&2; exit 1; }
fi
rm -f "$log"
echo "installed ${need[*]}"
