#!/usr/bin/env bash
# Installs the real xtransit@3.1.0 agent and xprofiler@3.1.0 (built from source against /usr's Node headers)
# into a cache folder outside the repository, and reuses it when it is already complete.
# Usage: install.sh [cache-dir]   (default: $EZM_AGENT_CACHE or ~/.cache/easy-monitor/agent-3.1.0)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dest=${1:-${EZM_AGENT_CACHE:-$HOME/.cache/easy-monitor/agent-3.1.0}}
stamp="$dest/.complete-$(sha1sum "$here/package.json" | cut -c1-12)-node$(node -p process.versions.modules)"
if [ -f "$stamp" ]; then
  echo "agent cache ok: $dest"
  exit 0
fi
rm -rf "$dest"
mkdir -p "$dest"
cp "$here/package.json" "$dest/"
cd "$dest"
# npm 11 runs no install scripts unless the package allows them (allowScripts above); the native addon is
# compiled here with node-gyp against the headers of the installed Node.js.
npm install --no-audit --no-fund --build-from-source --nodedir=/usr --foreground-scripts >install.log 2>&1 || {
  tail -50 install.log
  exit 1
}
node -e "require('xprofiler'); require('xtransit'); console.log('xprofiler and xtransit load')"
touch "$stamp"
echo "agent installed: $dest"
