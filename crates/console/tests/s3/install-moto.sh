#!/usr/bin/env bash
# Installs moto's S3-compatible test server (PyPI `moto[server]`, pinned) into a venv outside the repository, for
# crates/console/tests/storage_s3.rs (which runs its moto_server). Idempotent. Override the place with EZM_TOOLS_DIR.
set -euo pipefail
root=$(cd "$(dirname "$0")/../../../.." && pwd)
exec "$root/deploy/local/pip-venv.sh" moto-venv moto 5.2.5 "moto[server]==5.2.5"
