#!/bin/sh
# As the official redis image does: redis-server runs as the user redis, reachable from the other containers (no
# protected mode: the compose network is the boundary; the port is not published).
set -eu
if [ "${1:-}" = redis-server ]; then
  chown redis:redis /data
  exec setpriv --reuid=redis --regid=redis --init-groups "$@" --protected-mode no
fi
exec "$@"
