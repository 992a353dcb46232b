#!/usr/bin/env bash
# Runs every test on this machine: unit and integration tests against the local MariaDB and Redis, the end-to-end
# test with the real xtransit/xprofiler agent, the deployment file checks, and nginx with the real config in front
# of the real services. Installs what the tests need (cached outside the repository) and is safe to re-run.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
# shellcheck source=services.sh
source deploy/local/services.sh
ensure_services

echo "== real agent (xtransit 3.1.0 + xprofiler 3.1.0, cached)"
crates/ws-server/tests/real-agent/install.sh

echo "== cargo tests"
cargo test --workspace --locked

echo "== deployment files"
deploy/validate.sh

echo "== nginx in front of the real services"
deploy/local/nginx-check.sh
echo "all tests passed"
