#!/usr/bin/env bash
# Installs aiosmtpd (PyPI, pinned), the aio-libs SMTP server, into a venv outside the repository, for the manager's
# mail test over STARTTLS with AUTH (crates/manager/tests/api/alarms.rs starts crates/manager/tests/smtp/sink.py with
# it). Idempotent. Override the place with EZM_TOOLS_DIR.
set -euo pipefail
root=$(cd "$(dirname "$0")/../../../.." && pwd)
exec "$root/deploy/local/pip-venv.sh" aiosmtpd-venv aiosmtpd 1.4.6
