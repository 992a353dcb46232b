#!/bin/sh
# The official nginx image's template step (20-envsubst-on-templates.sh), reduced to what compose uses.
set -eu
if [ "${1:-}" = nginx ]; then
  filter=${NGINX_ENVSUBST_FILTER:-}
  # shellcheck disable=SC2016
  vars=$(awk "END { for (name in ENVIRON) { print ( name ~ /${filter}/ ) ? name : \"\" } }" </dev/null \
    | sed -n 's/^\(.\+\)$/${\1}/p' | tr '\n' ' ')
  for t in /etc/nginx/templates/*.template; do
    [ -f "$t" ] || continue
    out=/etc/nginx/conf.d/$(basename "$t" .template)
    envsubst "$vars" <"$t" >"$out"
    echo "ezm-ci-nginx: rendered $t to $out" >&2
  done
fi
exec "$@"
