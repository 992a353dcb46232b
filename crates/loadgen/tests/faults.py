#!/usr/bin/env python3
"""Fault tests of the agent data path: a few hundred simulated agents (ezm-loadgen) log through a ws-server into a
manager while, mid-run, the manager is killed and restarted, the MariaDB is stopped and started, or the Redis is
restarted (it keeps nothing, like the shared one). Each scenario asserts, per kind, that the rows stored are exactly
the rows the agents sent: nothing lost, nothing stored twice (and no natural key twice).

The MariaDB and the Redis are private, started by this script on their own loopback ports with their own data
directory under /tmp, and stopped at the end: the shared ones are never touched. Every run is bounded in time.

  crates/loadgen/tests/faults.py [--bin target/debug] [--agents 300] [--only manager,mysql,redis] [--fault-secs 15]
"""
import argparse, json, os, secrets, shutil, signal, subprocess, sys, tempfile, time, urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "../../.."))
# Below the kernel's ephemeral range (32768-60999 here): a port in it may be an outgoing connection's at the moment a
# service binds it ("Address already in use").
MYSQL_PORT, REDIS_PORT, MANAGER_PORT, WS_PORT = 13406, 16479, 14543, 14190
FAULT_AT = 12


def get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


def wait_until(check, what, secs=60):
    deadline = time.time() + secs
    while time.time() < deadline:
        try:
            if check():
                return
        except Exception:
            pass
        time.sleep(0.2)
    raise SystemExit(f"FAIL: {what} did not happen within {secs} s")


def metric(text, name):
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0.0


class Private:
    """The private MariaDB and Redis."""

    def __init__(self, work):
        self.work, self.mysqld, self.redis = work, None, None
        self.datadir = os.path.join(work, "mariadb")
        subprocess.run(["mariadb-install-db", "--no-defaults", f"--datadir={self.datadir}", "--user=root",
                        "--auth-root-authentication-method=normal", "--skip-test-db"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def start_mysql(self):
        log = open(os.path.join(self.work, "mariadb.log"), "a")
        self.mysqld = subprocess.Popen(["mariadbd", "--no-defaults", f"--datadir={self.datadir}", f"--port={MYSQL_PORT}",
                                        "--bind-address=127.0.0.1", f"--socket={self.work}/mariadb.sock", "--user=root",
                                        "--skip-log-bin", "--innodb-buffer-pool-size=128M", "--max-connections=500"],
                                       stdout=log, stderr=subprocess.STDOUT)
        wait_until(lambda: self.sql("SELECT 1") == "1", "the private MariaDB start")

    def stop_mysql(self):
        self.mysqld.send_signal(signal.SIGTERM)
        self.mysqld.wait(timeout=60)

    def start_redis(self):
        log = open(os.path.join(self.work, "redis.log"), "a")
        self.redis = subprocess.Popen(["redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1", "--save", "",
                                       "--appendonly", "no", "--dir", self.work], stdout=log, stderr=subprocess.STDOUT)
        wait_until(lambda: subprocess.run(["redis-cli", "-p", str(REDIS_PORT), "ping"], capture_output=True, text=True).stdout.strip() == "PONG",
                   "the private Redis start")

    def stop_redis(self):
        self.redis.kill()
        self.redis.wait(timeout=30)

    def sql(self, statement, db=""):
        out = subprocess.run(["mysql", "-h", "127.0.0.1", "-P", str(MYSQL_PORT), "-uroot", "-N", "-B", *([db] if db else []), "-e", statement],
                             capture_output=True, text=True, timeout=30)
        if out.returncode != 0:
            raise RuntimeError(out.stderr.strip())
        return out.stdout.strip()

    def stop(self):
        for p in (self.mysqld, self.redis):
            if p and p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    p.kill()


class Stack:
    def __init__(self, name, private, bin_dir, log_dir):
        self.private, self.bin, self.log_dir, self.procs = private, bin_dir, log_dir, []
        self.db = f"faults_{name}"
        self.app_secret = secrets.token_hex(16)
        self.env = dict(os.environ, EZM__CONSOLE_MYSQL__DATABASE=f"{self.db}_console", EZM__LOGS_MYSQL__DATABASE=f"{self.db}_logs",
                        EZM__CONSOLE_MYSQL__PORT=str(MYSQL_PORT), EZM__LOGS_MYSQL__PORT=str(MYSQL_PORT),
                        EZM__REDIS__SERVERS=f"127.0.0.1:{REDIS_PORT}", EZM__REDIS__KEY_PREFIX=f"{self.db}:",
                        EZM__SHARED__SECRET=secrets.token_hex(16), EZM__LOG__FILTER="warn",
                        EZM__MANAGER__HOST="127.0.0.1", EZM__MANAGER__PORT=str(MANAGER_PORT),
                        EZM__WS_SERVER__HOST="127.0.0.1", EZM__WS_SERVER__PORT=str(WS_PORT),
                        EZM__WS_SERVER__ADVERTISE_ADDRESS=f"127.0.0.1:{WS_PORT}",
                        EZM__WS_SERVER__MANAGER_BASE_URL=f"http://127.0.0.1:{MANAGER_PORT}")
        try:
            self.manager = self.start_manager()
            private.sql(f"INSERT INTO apps (id, name, owner, secret) VALUES (1, 'faults', 1, '{self.app_secret}')", f"{self.db}_console")
            self.ws = self.spawn("ws-server", "ws-server")
            wait_until(lambda: get(f"http://127.0.0.1:{WS_PORT}/healthz"), "the ws-server start")
        except BaseException:
            # A service that did not come up: the others are stopped, not left running past the test.
            self.stop()
            raise

    def spawn(self, name, binary):
        out = open(os.path.join(self.log_dir, f"{name}.log"), "a")
        p = subprocess.Popen([os.path.join(self.bin, binary)], env=self.env, stdout=out, stderr=subprocess.STDOUT)
        self.procs.append(p)
        return p

    def start_manager(self):
        p = self.spawn("manager", "manager")
        wait_until(lambda: get(f"http://127.0.0.1:{MANAGER_PORT}/readyz"), "the manager start")
        return p

    def kill_manager(self):
        self.manager.kill()
        self.manager.wait(timeout=30)

    def stored(self):
        """Rows per kind, and rows whose natural key is stored more than once."""
        counts, dups = {"process": 0, "osinfo": 0}, {"process": 0, "osinfo": 0}
        keys = {"process": "app, agent, pid, log_time", "osinfo": "app, agent, position, log_time"}
        for kind in counts:
            tables = " UNION ALL ".join(f"SELECT {keys[kind]} FROM {kind}_{d:02d}" for d in range(1, 32))
            out = self.private.sql(f"SELECT COUNT(*), COUNT(*) - COUNT(DISTINCT {keys[kind]}) FROM ({tables}) t", f"{self.db}_logs")
            n, d = out.split("\t")
            counts[kind], dups[kind] = int(n), int(d)
        return counts, dups

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()


def run(name, fault, private, args, work):
    log_dir = os.path.join(work, name)
    os.makedirs(log_dir)
    stack = Stack(name, private, args.bin, log_dir)
    try:
        summary = os.path.join(log_dir, "loadgen.json")
        loadgen = subprocess.Popen([os.path.join(args.bin, "ezm-loadgen"), "--url", f"ws://127.0.0.1:{WS_PORT}/", "--app-secret", stack.app_secret,
                                    "--agents", str(args.agents), "--ramp-per-sec", str(args.agents), "--duration-secs", str(FAULT_AT + args.fault_secs + 18),
                                    "--heartbeat-secs", "5", "--log-interval-secs", "2", "--processes", "2", "--reconnect-base-secs", "2",
                                    "--progress-secs", "0", "--summary-json", summary],
                                   stdout=open(os.path.join(log_dir, "loadgen.log"), "w"), stderr=subprocess.STDOUT)
        time.sleep(FAULT_AT)
        print(f"   {name}: {fault['what']} for {args.fault_secs} s", flush=True)
        fault["down"](stack)
        time.sleep(args.fault_secs)
        fault["up"](stack)
        waiting_peak = 0.0
        while loadgen.poll() is None:
            try:
                waiting_peak = max(waiting_peak, metric(get(f"http://127.0.0.1:{WS_PORT}/metrics"), "ezm_ws_forward_waiting"))
            except Exception:
                pass
            time.sleep(0.5)
        if loadgen.returncode != 0:
            raise SystemExit(f"FAIL: {name}: the load generator exited with {loadgen.returncode} (see {log_dir}/loadgen.log)")
        sent = json.load(open(summary))
        expected = {"process": sent["expected_process_rows"], "osinfo": sent["expected_osinfo_rows"]}
        # What the ws-server still holds lands within its retries: wait until the rows stop growing.
        last, steady = None, time.time()
        while time.time() - steady < 4:
            now = stack.stored()[0]
            if now != last:
                last, steady = now, time.time()
            time.sleep(0.5)
        stored, dups = stack.stored()
        ws = get(f"http://127.0.0.1:{WS_PORT}/metrics")
        mgr = get(f"http://127.0.0.1:{MANAGER_PORT}/metrics")
        report = {"scenario": name, "fault": fault["what"], "sent": expected, "stored": stored, "duplicate_keys": dups,
                  "logs_sent": sent["frames_sent"]["log"], "disconnects_by_server": sent["disconnects_by_server"],
                  "forward_retries": metric(ws, "ezm_ws_forward_retries_total"), "forward_waiting_peak": waiting_peak,
                  "forward_failed": metric(ws, "ezm_ws_forward_failed_total"), "frames_stale": metric(ws, "ezm_ws_frames_stale_total"),
                  "frames_unverifiable": metric(ws, "ezm_ws_frames_unverifiable_total"),
                  "rows_skipped_as_stored": metric(mgr, "ezm_manager_rows_duplicate_total"),
                  "logs_recognised_as_retried": metric(mgr, "ezm_manager_logs_duplicate_total")}
        print("   " + json.dumps(report), flush=True)
        if stored != expected or any(dups.values()) or min(expected.values()) == 0:
            raise SystemExit(f"FAIL: {name}: stored {stored} of {expected} sent, duplicate keys {dups} (logs in {log_dir})")
        return report
    finally:
        stack.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "target/debug"))
    ap.add_argument("--agents", type=int, default=300)
    ap.add_argument("--only", default="manager,mysql,redis")
    ap.add_argument("--fault-secs", type=int, default=15, help="how long each fault lasts (the issue's bound is 60)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (logs) after a pass")
    args = ap.parse_args()
    for tool in ("mariadbd", "mariadb-install-db", "redis-server", "redis-cli", "mysql"):
        if not shutil.which(tool):
            raise SystemExit(f"FAIL: {tool} is not installed")
    faults = {
        "manager": {"what": "manager killed (SIGKILL), then started again", "down": lambda s: s.kill_manager(),
                    "up": lambda s: setattr(s, "manager", s.start_manager())},
        "mysql": {"what": "MariaDB stopped, then started again", "down": lambda s: s.private.stop_mysql(), "up": lambda s: s.private.start_mysql()},
        "redis": {"what": "Redis killed, then started again empty", "down": lambda s: s.private.stop_redis(), "up": lambda s: s.private.start_redis()},
    }
    work = tempfile.mkdtemp(prefix="ezm-faults-")
    private = Private(work)
    ok = False
    try:
        private.start_mysql()
        private.start_redis()
        for name in args.only.split(","):
            run(name, faults[name], private, args, work)
        ok = True
    finally:
        private.stop()
        if ok and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"   logs kept in {work}")
    print("fault tests passed: every row sent stored exactly once through each fault")


if __name__ == "__main__":
    main()
