#!/bin/bash
# The official mysql image's first start, reduced to what compose uses: an empty data directory is initialised by a
# server without networking (root's password, the user MYSQL_USER, then /docker-entrypoint-initdb.d/*.sql and *.sh),
# which then stops; the real server starts after, listening on TCP.
set -euo pipefail
if [ "${1:-}" != mariadbd ]; then exec "$@"; fi
file_env() {
  local var=$1 file_var="${1}_FILE"
  if [ -n "${!file_var:-}" ]; then export "$var"="$(<"${!file_var}")"; fi
}
file_env MYSQL_PASSWORD
file_env MYSQL_ROOT_PASSWORD
datadir=/var/lib/mysql
install -d -o mysql -g mysql /run/mysqld
chown mysql:mysql "$datadir"
if [ ! -d "$datadir/mysql" ]; then
  : "${MYSQL_ROOT_PASSWORD:?MYSQL_ROOT_PASSWORD or MYSQL_ROOT_PASSWORD_FILE is required on the first start}"
  echo "ezm-ci-mariadb: initialising $datadir" >&2
  mariadb-install-db --user=mysql --datadir="$datadir" --skip-test-db --auth-root-authentication-method=normal >/dev/null
  socket=/run/mysqld/init.sock
  mariadbd --user=mysql --datadir="$datadir" --skip-networking --socket="$socket" &
  pid=$!
  for _ in $(seq 1 120); do
    mariadb-admin --socket="$socket" -uroot ping --silent 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || { echo "ezm-ci-mariadb: the init server exited" >&2; exit 1; }
    sleep 0.5
  done
  mariadb-admin --socket="$socket" -uroot ping --silent >/dev/null 2>&1 || { echo "ezm-ci-mariadb: the init server did not answer in 60 s" >&2; exit 1; }
  q() { printf '%s' "$1" | sed "s/\\\\/\\\\\\\\/g; s/'/\\\\'/g"; }
  sql=(mariadb --socket="$socket" -uroot)
  {
    echo "ALTER USER 'root'@'localhost' IDENTIFIED BY '$(q "$MYSQL_ROOT_PASSWORD")';"
    if [ -n "${MYSQL_USER:-}" ]; then
      echo "CREATE USER '$(q "$MYSQL_USER")'@'%' IDENTIFIED BY '$(q "${MYSQL_PASSWORD:-}")';"
    fi
    echo "FLUSH PRIVILEGES;"
  } | "${sql[@]}"
  # root's password from now on, through the environment (not on a command line)
  export MYSQL_PWD=$MYSQL_ROOT_PASSWORD
  for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
      *.sql) echo "ezm-ci-mariadb: running $f" >&2; "${sql[@]}" <"$f" ;;
      *.sh) echo "ezm-ci-mariadb: running $f" >&2; # shellcheck disable=SC1090
            . "$f" ;;
    esac
  done
  unset MYSQL_PWD
  kill "$pid"
  wait "$pid" || true
  echo "ezm-ci-mariadb: initialised" >&2
fi
exec "$@" --user=mysql --datadir="$datadir"
