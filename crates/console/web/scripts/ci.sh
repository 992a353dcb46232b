#!/usr/bin/env bash
# The web UI's checks for deploy/local/test.sh: installs the locked packages (npm ci, when package-lock.json changed),
# runs the unit tests (vitest) and builds dist/ (vue-tsc, vite, the bundle budget), which the console then embeds.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=node_modules/.ezm-lock-$(sha1sum package-lock.json | cut -c1-12)
if [ ! -f "$stamp" ]; then
  npm ci --no-audit --no-fund
  touch "$stamp"
fi
npm test
npm run build
