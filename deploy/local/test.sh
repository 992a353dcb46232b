#!/usr/bin/env bash
# Runs every test on this machine: unit and integration tests against the local MariaDB and Redis (and the moto S3
# servers the console's storage tests start on loopback), the end-to-end tests with the real xtransit/xprofiler
# agent (directly and through nginx with the shipped template), the web UI's unit and browser tests, the services started with only the reference
# environment names, the fault tests of the data path (private MariaDB and Redis), the offline checks of the deployment files,
# and `docker compose up` of the committed docker-compose.yml with the images built here (deploy/compose/test.sh).
# Installs what the tests need (cached outside the repository) and is safe to re-run.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
# shellcheck source=services.sh
source deploy/local/services.sh
ensure_services

echo "== real agent (xtransit 3.1.0 + xprofiler 3.1.0, cached)"
crates/ws-server/tests/real-agent/install.sh

echo "== nginx (installed if missing) and nginx -t on the rendered template"
nginx/test.sh --config-only

echo "== moto S3 test server for the console's S3 storage tests (pinned, cached)"
crates/console/tests/s3/install-moto.sh

echo "== aiosmtpd SMTP server for the manager's STARTTLS + AUTH mail test (pinned, cached)"
crates/manager/tests/smtp/install-aiosmtpd.sh

echo "== web UI: npm ci, unit tests (vitest), build into crates/console/web/dist with the bundle budget"
crates/console/web/scripts/ci.sh

echo "== formatting and lints (cargo fmt --check, clippy with warnings as errors)"
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== cargo tests (the console's UI tests need the built UI)"
EZM_UI_REQUIRED=1 cargo test --workspace --locked
cargo build --workspace --locked --bins

echo "== fault tests: manager killed, a private MariaDB stopped, a private Redis restarted, each mid-run (exactly once)"
crates/loadgen/tests/faults.py

echo "== the UI's API types match the console's OpenAPI document"
(cd crates/console/web && npm run --silent gen:api -- --check)

echo "== browser tests: Debian chromium + playwright-core against the real stack and the real agent"
crates/console/web/e2e/install-browser.sh
crates/console/web/e2e/run.sh
echo "== browser test: the original xui bundle served with console.ui_dir and the Basic challenge, with the real agent"
crates/console/web/e2e/run.sh xui

echo "== schemathesis against the console's OpenAPI document (no 5xx)"
crates/console/tests/schemathesis/run.sh

echo "== services with only the reference environment names"
deploy/local/env-check.sh

echo "== deployment files"
deploy/validate.sh

echo "== docker compose up as a user runs it: our image and the demo built, the stack through nginx (MariaDB for MySQL 8.4)"
deploy/compose/test.sh
echo "all tests passed"
