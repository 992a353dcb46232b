#!/usr/bin/env bash
# Renders nginx/templates/easy-monitor.conf.template to stdout for an nginx outside docker compose.
#   nginx/render.sh [values-file] > /etc/nginx/conf.d/easy-monitor.conf && nginx -t && nginx -s reload
# Values come from the file (default nginx/easy-monitor.env); a variable already set in the environment wins.
# Only the template's EZM_* variables are substituted, so nginx's own $variables stay as they are.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
values=${1:-$here/easy-monitor.env}
names=(EZM_HTTP_PORT EZM_CONSOLE_DOMAIN EZM_WS_DOMAIN EZM_MANAGER_DOMAIN EZM_CONSOLE_UPSTREAM EZM_WS_UPSTREAM
  EZM_MANAGER_UPSTREAM EZM_MANAGER_ALLOW)
for name in "${names[@]}"; do
  if [ -z "${!name:-}" ]; then
    value=$(sed -n "s/^${name}=//p" "$values" | tail -1)
    [ -n "$value" ] || { echo "render: $name is not set (in the environment or $values)" >&2; exit 1; }
    export "$name=$value"
  fi
done
# shellcheck disable=SC2016 # envsubst takes the literal list '${NAME} ${NAME2}'
envsubst "$(printf '${%s} ' "${names[@]}")" <"$here/templates/easy-monitor.conf.template"
