# Sourced by the local scripts: starts MariaDB and Redis when they are not answering (idempotent).
ensure_services() {
  if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    echo "starting redis"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
  fi
  if ! mysqladmin -h 127.0.0.1 -uroot ping >/dev/null 2>&1; then
    echo "starting mariadb"
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
  fi
  for _ in $(seq 1 60); do
    if redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && mysqladmin -h 127.0.0.1 -uroot ping >/dev/null 2>&1; then
      return 0
    fi
    sleep 1
  done
  echo "MariaDB or Redis did not come up on 127.0.0.1 (3306 / 6379)" >&2
  return 1
}
