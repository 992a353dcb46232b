#!/usr/bin/env python3
"""Console files benchmark (standard library only): the files page, status polling, and streamed transfers.

Starts release builds of the manager and console on loopback ports against the local MariaDB and Redis, with their
own databases (ezm_bench2_files_*) and Redis key prefix (ezm_bench2_files:), all dropped at the end, then:

  list      seeds FILES `files` rows and CORES `coredumps` rows for one app (multi-row INSERTs, spread gm_create)
            and times GET /xapi/files (REQUESTS sequential requests per case, at most CASE_SECS s) for the first, a middle and the last
            page with filterType all, cpuprofile, core, favor; baseline: the same two statements (count, page) in the
            mysql client, timed by the server (SHOW PROFILES). Target p99 < 50 ms.
  status    USERS signed-in sessions polling POST /xapi/file_status once a second each for POLL_SECS (10 rows:
            5 at status 0 with a fresh gm_create, so no agent is asked, 5 at status 3). Target: no error,
            p99 < 100 ms; console RSS before/after.
  transfer  a SIZE_MIB upload through POST /xapi/upload_file (base64 of /dev/urandom: compressible text, gzip ~76 %)
            and GET /file/download of the stored gzip object, local backend and S3 (moto), RSS sampled every 20 ms;
            baseline: curl straight from the storage directory / moto. Target: RSS flat.

  indexed   (after list) the list again with the indexes of TRIED_INDEXES added, same data, same run.

Usage: python3 crates/console/bench/files.py [list indexed status transfer]   (env: BIN_DIR, FILES, CORES, REQUESTS,
       USERS, POLL_SECS, SIZE_MIB, MOTO). Writes crates/console/bench/results/files-<UTC time>.json.
"""
import datetime
import http.client
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
BIN = os.environ.get("BIN_DIR", os.path.join(ROOT, "target", "release"))
FILES = int(os.environ.get("FILES", 100_000))
CORES = int(os.environ.get("CORES", 10_000))
REQUESTS = int(os.environ.get("REQUESTS", 100))
CASE_SECS = float(os.environ.get("CASE_SECS", 8))  # a list case stops after this long even if REQUESTS are not done
BASELINE_REPS = int(os.environ.get("BASELINE_REPS", 10))
USERS = int(os.environ.get("USERS", 200))
POLL_SECS = int(os.environ.get("POLL_SECS", 30))
SIZE_MIB = int(os.environ.get("SIZE_MIB", 1024))
MOTO = os.environ.get("MOTO", os.path.expanduser("~/.cache/easy-monitor/moto-venv/bin/moto_server"))
ID = "ezm_bench2_files"
CONSOLE_DB, LOGS_DB = f"{ID}_console", f"{ID}_logs"
PREFIX = f"{ID}:"
ADMIN, PASSWORD = "root@example.com", "bench2-files-password"
CSRF = "bench-csrf"
TYPES = ["cpuprofile", "heapprofile", "gcprofile", "heapsnapshot", "diag"]
results = {"started": datetime.datetime.utcnow().isoformat() + "Z", "uptime_before": "", "params": {
    "files": FILES, "cores": CORES, "requests": REQUESTS, "case_secs": CASE_SECS, "baseline_reps": BASELINE_REPS, "users": USERS, "poll_secs": POLL_SECS, "size_mib": SIZE_MIB}}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def mysql(sql, db=True, stdin=None):
    db = CONSOLE_DB if db is True else db
    args = ["mysql", "-h127.0.0.1", "-uroot", "-N", "-B"] + ([db] if db else [])
    if stdin is None:
        args += ["-e", sql]
    out = subprocess.run(args, input=stdin, capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise RuntimeError(f"mysql: {out.stderr.strip()}")
    return out.stdout


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, max(0, int(round(p / 100 * len(v) + 0.5)) - 1))] if v else None


def summary(ms):
    return {"n": len(ms), "p50_ms": round(pct(ms, 50), 2), "p90_ms": round(pct(ms, 90), 2), "p99_ms": round(pct(ms, 99), 2),
            "max_ms": round(max(ms), 2)}


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Sampler(threading.Thread):
    """RSS of `pid` every 20 ms until stopped."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.samples, self.stop_flag = pid, [], threading.Event()

    def run(self):
        while not self.stop_flag.is_set():
            self.samples.append(rss_kb(self.pid))
            time.sleep(0.02)

    def stop(self):
        self.stop_flag.set()
        self.join()
        return {"samples": len(self.samples), "min_kb": min(self.samples), "peak_kb": max(self.samples)}


class Services:
    def __init__(self, work):
        self.work, self.procs = work, {}
        self.mport, self.cport = free_port(), free_port()
        self.env = dict(os.environ, EZM__CONSOLE_MYSQL__DATABASE=CONSOLE_DB, EZM__LOGS_MYSQL__DATABASE=LOGS_DB,
                        EZM__REDIS__KEY_PREFIX=PREFIX, EZM__SHARED__SECRET="bench2-" + os.urandom(6).hex(),
                        EZM__LOG__FILTER="warn", EZM__LOG__FORMAT="json", EZM__MANAGER__HOST="127.0.0.1",
                        EZM__MANAGER__PORT=str(self.mport), EZM__CONSOLE__HOST="127.0.0.1",
                        EZM__CONSOLE__PORT=str(self.cport),
                        EZM__CONSOLE__MANAGER_BASE_URL=f"http://127.0.0.1:{self.mport}",
                        EZM__CONSOLE__STORAGE_DIR=os.path.join(work, "store"),
                        CONSOLE_ADMIN_USER=ADMIN, CONSOLE_ADMIN_PASSWORD=PASSWORD)

    def start(self, name, extra=None):
        log = open(os.path.join(self.work, f"{name}.log"), "ab")
        env = dict(self.env, **(extra or {}))
        self.procs[name] = subprocess.Popen([os.path.join(BIN, name)], env=env, stdout=log, stderr=log)
        port = self.mport if name == "manager" else self.cport
        for _ in range(150):
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                c.request("GET", "/readyz")
                if c.getresponse().status == 200:
                    return self.procs[name].pid
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{name} did not come up, see {self.work}/{name}.log")

    def stop(self, name):
        p = self.procs.pop(name, None)
        if p:
            p.terminate()
            p.wait(timeout=20)

    def stop_all(self):
        for name in list(self.procs):
            self.stop(name)


def conn(port):
    return http.client.HTTPConnection("127.0.0.1", port, timeout=30)


def sign_in(port):
    c = conn(port)
    c.request("POST", "/xapi/signin", json.dumps({"name": ADMIN, "password": PASSWORD}),
              {"content-type": "application/json", "cookie": f"csrfToken={CSRF}", "x-csrf-token": CSRF})
    r = c.getresponse()
    r.read()
    for k, v in r.getheaders():
        if k.lower() == "set-cookie" and v.startswith("ezm_session="):
            return v.split(";")[0].split("=", 1)[1]
    raise RuntimeError(f"sign-in failed: {r.status}")


def headers(session, json_body=True):
    h = {"cookie": f"csrfToken={CSRF}; ezm_session={session}", "x-csrf-token": CSRF}
    if json_body:
        h["content-type"] = "application/json"
    return h


def seed(app):
    """FILES files rows and CORES coredumps rows, gm_create spread over the last ~90 days, every 20th a favourite."""
    start = time.time()
    span = 90 * 86400
    for table, total in (("files", FILES), ("coredumps", CORES)):
        sql = []
        for lo in range(0, total, 5000):
            rows = []
            for n in range(lo, min(total, lo + 5000)):
                ago = int(n * span / total) + random.randint(0, 59)
                fav = 1 if n % 20 == 0 else 0
                if table == "files":
                    rows.append(f"({app},'agent-{n % 50}','{TYPES[n % 5]}','/tmp/x-{n}.{TYPES[n % 5]}','u-{n}.gz',1,3,{fav},"
                                f"NOW() - INTERVAL {ago} SECOND)")
                else:
                    rows.append(f"({app},'agent-{n % 50}','/tmp/core.{n}','u-{n}.core.gz',3,'/usr/bin/node','u-{n}.node.gz',3,1,"
                                f"{fav},NOW() - INTERVAL {ago} SECOND)")
            cols = ("(app, agent, type, file, storage, user, status, favor, gm_create)" if table == "files" else
                    "(app, agent, file, file_storage, file_status, node, node_storage, node_status, user, favor, gm_create)")
            sql.append(f"INSERT INTO {table} {cols} VALUES " + ",".join(rows) + ";")
        mysql(None, stdin="\n".join(sql))
    mysql("ANALYZE TABLE files, coredumps")
    return round(time.time() - start, 1)


def page_sql(app, flt, offset, limit=10):
    """The two statements of store::console_db::files::page, with literal values."""
    fw = {"all": "", "favor": " AND favor = 1", "core": None}.get(flt, f" AND type = '{flt}'")
    cw = {"all": "", "favor": " AND favor = 1", "core": ""}.get(flt)
    wanted = offset + limit
    branches, counts = [], []
    if fw is not None:
        branches.append(f"(SELECT 0 AS src, id, type AS kind, agent, file, '' AS node, COALESCE(status, 0) AS status, 0 AS node_status, "
                        f"COALESCE(favor, 0) AS favor, user, gm_create FROM files WHERE app = {app}{fw} ORDER BY gm_create DESC, id DESC LIMIT {wanted})")
        counts.append(f"(SELECT COUNT(*) FROM files WHERE app = {app}{fw})")
    if cw is not None:
        branches.append(f"(SELECT 1 AS src, id, 'core' AS kind, agent, file, node, COALESCE(file_status, 0) AS status, "
                        f"COALESCE(node_status, 0) AS node_status, COALESCE(favor, 0) AS favor, user, gm_create "
                        f"FROM coredumps WHERE app = {app}{cw} ORDER BY gm_create DESC, id DESC LIMIT {wanted})")
        counts.append(f"(SELECT COUNT(*) FROM coredumps WHERE app = {app}{cw})")
    count = f"SELECT CAST({' + '.join(counts)} AS UNSIGNED)"
    rows = (f"SELECT src, id, kind, agent, file, node, status, node_status, favor, user, "
            f"COALESCE(DATE_FORMAT(gm_create, '%Y-%m-%d %H:%i:%s'), '') FROM ({' UNION ALL '.join(branches)}) AS listed "
            f"ORDER BY gm_create DESC, src DESC, id DESC LIMIT {limit} OFFSET {offset}")
    return count, rows


def mysql_baseline(app, flt, offset, reps=None):
    """Server-side durations (SHOW PROFILES) of count + page, `reps` times in one session."""
    reps = reps or BASELINE_REPS
    count, rows = page_sql(app, flt, offset)
    script = "SET profiling_history_size = 100; SET profiling = 1;\n" + f"{count};\n{rows};\n" * reps + "SELECT '--profiles--';\nSHOW PROFILES;\n"
    out = mysql(None, stdin=script).split("--profiles--\n", 1)[1]
    durations = [float(line.split("\t")[1]) * 1000 for line in out.splitlines()
                 if line.count("\t") >= 2 and line.split("\t")[0].isdigit() and "profiling" not in line]
    pairs = [durations[i] + durations[i + 1] for i in range(0, len(durations) - 1, 2)]
    return summary(pairs)


# Indexes tried against the list (the `indexed` phase): the filtered pages' counts and branches in index order.
TRIED_INDEXES = [("files", "app_type_gm_create", "app, type, gm_create"), ("files", "app_favor_gm_create", "app, favor, gm_create"),
                 ("coredumps", "app_favor_gm_create", "app, favor, gm_create")]


def bench_list(svc, session, app, seeded=False):
    out = {"seed_secs": None if seeded else seed(app), "cases": []}
    counts = {}
    for flt in ("all", "cpuprofile", "core", "favor"):
        c, _ = page_sql(app, flt, 0)
        counts[flt] = int(mysql(c).strip())
    for flt in ("all", "cpuprofile", "core", "favor"):
        last = max(1, (counts[flt] + 9) // 10)
        cases = [("first", 1), ("middle", (last + 1) // 2), ("last", last)]
        if flt == "all":
            # The list changes before every request (a row added, outside the timing): a deep page's seek points
            # are taken again each time, the worst case for them.
            cases.append(("middle, a row added before each", (last + 1) // 2))
        for label, page in cases:
            ms, bad = [], 0
            stop_at = time.time() + CASE_SECS
            c = conn(svc.cport)  # a fresh connection per case: the console closes one left idle by the baseline
            for n in range(REQUESTS):
                if ms and time.time() > stop_at:
                    break
                if "added" in label:
                    mysql(f"INSERT INTO files (app, agent, type, file, storage, user, status) "
                          f"VALUES ({app}, 'agent-new', 'trend', '/tmp/new-{n}-{time.time_ns()}.trend', '', 1, 3)")
                t = time.perf_counter()
                c.request("GET", f"/xapi/files?appId={app}&filterType={flt}&currentPage={page}&pageSize=10",
                          headers=headers(session, False))
                r = c.getresponse()
                body = r.read()
                ms.append((time.perf_counter() - t) * 1000)
                if r.status != 200 or not json.loads(body).get("ok"):
                    bad += 1
            last_body = json.loads(body)
            rows = len(last_body.get("data", {}).get("list", []))
            case = {"filter": flt, "page": label, "current_page": page, "rows_matching": counts[flt], "rows_on_page": rows,
                    "errors": bad, "console": summary(ms), "console_after_first": summary(ms[1:]) if len(ms) > 1 else None,
                    "mysql_server": mysql_baseline(app, flt, (page - 1) * 10)}
            out["cases"].append(case)
            print(f"  list {flt:10} {label:6} page {page:5}: console p50/p90/p99/max {case['console']['p50_ms']}/"
                  f"{case['console']['p90_ms']}/{case['console']['p99_ms']}/{case['console']['max_ms']} ms (target p99 < 50; "
                  f"first request {round(ms[0], 1)} ms, the others' p99 {(case['console_after_first'] or {}).get('p99_ms')} ms), "
                  f"mysql p50/p99 {case['mysql_server']['p50_ms']}/{case['mysql_server']['p99_ms']} ms, rows {rows}, errors {bad}",
                  flush=True)
    explain = {}
    for flt in ("all", "favor"):
        _, rows = page_sql(app, flt, counts[flt] - 10)
        explain[flt] = mysql("EXPLAIN " + rows).splitlines()
    out["explain_last_page"] = explain
    return out


def bench_status(svc, app, pid):
    mysql(f"INSERT INTO files (app, agent, type, file, storage, user, status, gm_create) VALUES " +
          ",".join(f"({app},'poll-agent','cpuprofile','/tmp/poll-{i}.cpuprofile','{'' if i < 5 else f'u-poll-{i}.gz'}',1,"
                   f"{0 if i < 5 else 3},NOW())" for i in range(10)))
    ids = [int(x) for x in mysql(f"SELECT id FROM files WHERE agent = 'poll-agent' ORDER BY id").split()]
    body = json.dumps({"files": [{"fileId": fid, "fileType": "cpuprofile", "status": 0 if i < 5 else 3, "index": i}
                                 for i, fid in enumerate(ids)]})
    sessions = [sign_in(svc.cport) for _ in range(USERS)]
    before = rss_kb(pid)
    lat, errors, lock = [], [], threading.Lock()
    barrier = threading.Barrier(USERS)

    def user(session, k):
        c = conn(svc.cport)
        barrier.wait()
        time.sleep(k / USERS)  # spread the users over the second
        deadline = time.time() + POLL_SECS
        mine, bad = [], []
        while time.time() < deadline:
            tick = time.time()
            t = time.perf_counter()
            try:
                c.request("POST", "/xapi/file_status", body, headers(session))
                r = c.getresponse()
                reply = r.read()
                ok = r.status == 200 and json.loads(reply).get("ok") and len(json.loads(reply)["data"]["list"]) == 10
                if not ok:
                    bad.append(f"{r.status} {reply[:200]!r}")
            except Exception as e:  # a failed request is a result, counted, not a crash of the benchmark
                bad.append(repr(e))
                c = conn(svc.cport)
            mine.append((time.perf_counter() - t) * 1000)
            time.sleep(max(0.0, 1.0 - (time.time() - tick)))
        with lock:
            lat.extend(mine)
            errors.extend(bad)

    sampler = Sampler(pid)
    sampler.start()
    threads = [threading.Thread(target=user, args=(s, k)) for k, s in enumerate(sessions)]
    t0 = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.time() - t0
    rss = sampler.stop()
    statuses = mysql(f"SELECT status, COUNT(*) FROM files WHERE agent = 'poll-agent' GROUP BY status").split()
    out = {"users": USERS, "secs": POLL_SECS, "requests": len(lat), "requests_per_sec": round(len(lat) / wall, 1),
           "errors": len(errors), "error_samples": errors[:5], "latency": summary(lat), "rss_before_kb": before,
           "rss_after_kb": rss_kb(pid), "rss_peak_during_kb": rss["peak_kb"], "statuses_after": statuses}
    print(f"  status {USERS} users x {POLL_SECS} s: {out['requests']} requests ({out['requests_per_sec']}/s), errors "
          f"{out['errors']} (target 0), p50/p90/p99/max {out['latency']['p50_ms']}/{out['latency']['p90_ms']}/"
          f"{out['latency']['p99_ms']}/{out['latency']['max_ms']} ms (target p99 < 100), RSS {before} -> "
          f"{out['rss_after_kb']} kB (peak {rss['peak_kb']})", flush=True)
    return out


def curl(args, pid=None):
    """Runs curl, RSS of `pid` sampled meanwhile; returns curl's -w figures."""
    sampler = Sampler(pid) if pid else None
    idle = rss_kb(pid) if pid else None
    if sampler:
        sampler.start()
    out = subprocess.run(["curl", "-sS", "-w", "%{http_code} %{size_upload} %{size_download} %{time_total}"] + args,
                         capture_output=True, text=True, timeout=900)
    rss = sampler.stop() if sampler else None
    code, up, down, total = out.stdout.strip().split()[-4:]
    res = {"http": int(code), "bytes_up": int(float(up)), "bytes_down": int(float(down)), "secs": float(total)}
    res["mb_per_s"] = round(max(res["bytes_up"], res["bytes_down"]) / res["secs"] / 1e6, 1)
    if rss:
        res.update({"rss_idle_kb": idle, "rss_peak_kb": rss["peak_kb"], "rss_after_kb": rss_kb(pid)})
    return res


def transfer_round(svc, app, data, backend, pid, s3=None):
    session = sign_in(svc.cport)
    cookie = f"csrfToken={CSRF}; ezm_session={session}"
    up = curl(["-o", os.path.join(svc.work, "up.json"), "-H", f"cookie: {cookie}", "-H", f"x-csrf-token: {CSRF}",
               "-F", f"file=@{data};filename=big.cpuprofile;type=application/octet-stream",
               f"http://127.0.0.1:{svc.cport}/xapi/upload_file?appId={app}&fileType=cpuprofile"], pid)
    up["reply"] = open(os.path.join(svc.work, "up.json")).read()[:200]
    fid, storage = mysql(f"SELECT id, storage FROM files WHERE agent <> 'poll-agent' AND storage LIKE '%big.cpuprofile%' "
                         f"ORDER BY id DESC LIMIT 1").split()
    down = curl(["-o", "/dev/null", "-H", f"cookie: {cookie}",
                 f"http://127.0.0.1:{svc.cport}/file/download?fileId={fid}&fileType=cpuprofile"], pid)
    if backend == "local":
        obj = os.path.join(svc.env["EZM__CONSOLE__STORAGE_DIR"], storage)
        base_down = curl(["-o", "/dev/null", f"file://{obj}"])
        base_up = curl(["-o", os.path.join(svc.work, "copy.bin"), f"file://{data}"])
        os.unlink(os.path.join(svc.work, "copy.bin"))
        base_up["what"] = "curl file:// copy of the input into the work directory"
        os.unlink(obj)
    else:
        port, bucket, prefix = s3
        base_down = curl(["-o", "/dev/null", f"http://127.0.0.1:{port}/{bucket}/{prefix}{storage}"])
        base_up = curl(["-o", "/dev/null", "-T", data, f"http://127.0.0.1:{port}/{bucket}/baseline-put.bin"])
        base_up["what"] = "curl -T (PUT) of the input straight to moto"
    base_down["what"] = "curl of the stored gzip object straight from " + ("the storage directory" if backend == "local" else "moto")
    out = {"upload": up, "download": down, "baseline_upload": base_up, "baseline_download": base_down}
    for k in ("upload", "download"):
        r = out[k]
        print(f"  {backend:5} {k:8}: http {r['http']}, {max(r['bytes_up'], r['bytes_down'])} bytes in {r['secs']} s = "
              f"{r['mb_per_s']} MB/s (baseline {out['baseline_' + k]['mb_per_s']} MB/s), console RSS idle {r['rss_idle_kb']} kB, "
              f"peak {r['rss_peak_kb']} kB, after {r['rss_after_kb']} kB (target: flat)", flush=True)
    return out


def bench_transfer(svc, app):
    data = os.path.join(svc.work, "data.cpuprofile")
    t = time.time()
    subprocess.run(f"base64 -w 76 /dev/urandom | head -c {SIZE_MIB << 20} > {data}", shell=True, check=True)
    gz = subprocess.run(f"head -c {64 << 20} {data} | gzip -c -6 | wc -c", shell=True, capture_output=True, text=True)
    out = {"data": f"base64 (76-column lines) of /dev/urandom, {SIZE_MIB} MiB; gzip -6 keeps "
                   f"{int(gz.stdout.strip()) * 100 // (min(64, SIZE_MIB) << 20)} % of its first {min(64, SIZE_MIB)} MiB",
           "generated_secs": round(time.time() - t, 1)}
    print(f"  transfer data: {out['data']}", flush=True)
    out["local"] = transfer_round(svc, app, data, "local", svc.procs["console"].pid)
    if not os.path.exists(MOTO):
        out["s3"] = f"skipped: {MOTO} missing (crates/console/tests/s3/install-moto.sh)"
        return out
    port, bucket, prefix = free_port(), "ezm-bench2-files", "bench/"
    log = open(os.path.join(svc.work, "moto.log"), "ab")
    moto = subprocess.Popen([MOTO, "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=log)
    try:
        for _ in range(100):
            try:
                c = conn(port)
                c.request("PUT", f"/{bucket}")
                if c.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.2)
        svc.stop("console")
        pid = svc.start("console", {"EZM__CONSOLE__STORAGE_BACKEND": "s3", "EZM__CONSOLE__S3_BUCKET": bucket,
                                    "EZM__CONSOLE__S3_PREFIX": prefix, "EZM__CONSOLE__S3_REGION": "us-east-1",
                                    "EZM__CONSOLE__S3_ENDPOINT": f"http://127.0.0.1:{port}", "EZM__CONSOLE__S3_ALLOW_HTTP": "true",
                                    "EZM__CONSOLE__S3_ACCESS_KEY_ID": "test", "EZM__CONSOLE__S3_SECRET_ACCESS_KEY": "test"})
        out["s3"] = transfer_round(svc, app, data, "s3", pid, (port, bucket, prefix))
        out["s3"]["moto_rss_kb"] = rss_kb(moto.pid)
    finally:
        moto.terminate()
        moto.wait(timeout=20)
    return out


def main():
    phases = sys.argv[1:] or ["list", "indexed", "status", "transfer"]
    results["uptime_before"] = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"machine: {results['uptime_before']}", flush=True)
    work = tempfile.mkdtemp(prefix="ezm_bench2_files.")
    svc = Services(work)

    def cleanup():
        svc.stop_all()
        mysql(f"DROP DATABASE IF EXISTS {CONSOLE_DB}; DROP DATABASE IF EXISTS {LOGS_DB}", db=None)
        subprocess.run(["redis-cli", "-h", "127.0.0.1", "EVAL",
                        "for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end", "0", PREFIX + "*"],
                       capture_output=True)
        shutil.rmtree(work, ignore_errors=True)

    try:
        mysql(f"DROP DATABASE IF EXISTS {CONSOLE_DB}; DROP DATABASE IF EXISTS {LOGS_DB}", db=None)
        svc.start("manager")
        pid = svc.start("console")
        results["console_idle_rss_kb"] = rss_kb(pid)
        session = sign_in(svc.cport)
        c = conn(svc.cport)
        c.request("POST", "/xapi/app", json.dumps({"newAppName": "bench-files"}), headers(session))
        c.getresponse().read()
        app = int(mysql("SELECT MAX(id) FROM apps").strip())
        if "list" in phases:
            results["list"] = bench_list(svc, session, app)
        if "indexed" in phases:
            for table, name, cols in TRIED_INDEXES:
                mysql(f"ALTER TABLE {table} ADD INDEX {name} ({cols})")
            mysql("ANALYZE TABLE files, coredumps")
            print("  list again with the indexes " + ", ".join(f"{t} ({c})" for t, _, c in TRIED_INDEXES), flush=True)
            results["list_indexed"] = bench_list(svc, session, app, seeded="list" in phases)
            results["list_indexed"]["indexes"] = TRIED_INDEXES
        if "status" in phases:
            results["status"] = bench_status(svc, app, pid)
        if "transfer" in phases:
            results["transfer"] = bench_transfer(svc, app)
    finally:
        results["uptime_after"] = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
        print(f"machine: {results['uptime_after']}", flush=True)
        cleanup()
        os.makedirs(os.path.join(os.path.dirname(__file__), "results"), exist_ok=True)
        path = os.path.join(os.path.dirname(__file__), "results",
                            "files-" + datetime.datetime.utcnow().strftime("%Y%m%dT%H%M%SZ") + ".json")
        with open(path, "w") as f:
            json.dump(results, f, indent=1)
        print(f"results: {path}")


if __name__ == "__main__":
    main()
