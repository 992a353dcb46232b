#!/usr/bin/env python3
"""Console trends and overview benchmark (standard library only), issue 9.

Starts release builds of the manager and console on loopback ports against the local MariaDB and Redis (helpers of
files.py), with their own databases (ezm_bench2_trends_*) and Redis key prefix (ezm_bench2_trends:), then:

  seed      DAYS day tables (today and the DAYS-1 before, local time as the console reads it) of process_DD with
            AGENTS x PIDS processes at one row a minute (1440 a day, today up to now) and of osinfo_DD with AGENTS x 2
            positions, generated inside MariaDB (INSERT ... SELECT over the SEQUENCE engine's seq_0_to_N tables, one
            day table at a time, rows in time order as agents report them: a process's rows are AGENTS x PIDS rows apart
            from each other, as in a real day table); only the columns the console reads are filled.
  cases     sequential requests (REQUESTS per case, at most CASE_SECS s):
              process   GET /xapi/process_trend duration=168 for a random (agent, pid), trendType cycling over all 9
              system    GET /xapi/system_trend duration=168 for a random agent, trendType cycling over all 8
              overview  GET /xapi/main_metrics (the 5 types in turn) and /xapi/overview_metrics of the app with AGENTS
                        online agents (heartbeats in Redis, confirmed by a fake ws-server in this script)
            baseline: the store's SQL for one day table (x8 for the week), timed by the server (SHOW PROFILES),
            and osCpuTrend's read of both halves (before) and of one half (now).
            Targets: process and system p99 < 50 ms, overview p99 < 100 ms.
  poll      USERS signed-in users (each its own account and session, each a member of the app) for POLL_SECS s, each
            once a second: POST /xapi/file_status (10 rows, as the files page polls: 5 at status 0 just created, so no
            agent is asked, 5 at status 3) and one request of the app card (GET /xapi/overview_metrics and
            /xapi/main_metrics of the 5 types in turn, as the apps page loads it); the users spread over the second.
            Target: no error, p99 < 100 ms; console RSS before, peak and after.

  pages     page loads as the original front-end makes them (REQUESTS/8 of each, at most CASE_SECS s each): the 8
            system charts of a random agent at once, and the 9 charts of a random process at once, each chart on its
            own connection; the page time is until its last chart answered (the charts share one read for
            console.trend_cache_ttl_ms; EZM__CONSOLE__TREND_CACHE_TTL_MS=0 for one read per chart).

Usage: python3 crates/console/bench/trends.py [--keep] [--reuse] [process system pages overview poll]   (default: all)
  --keep   leave the databases (default: dropped at the end; the full seed takes ~1.5 GB+)
  --reuse  do not seed when the logs database already holds the data (use with --keep)
  revisit   (not in the default set; run it on a console that has not served trends yet, e.g. its own run with
            --reuse) REVISITED agents' system pages and REVISITED processes' pages, each twice 6 s apart (first visit:
            every day read from MySQL; again: past days kept, today read), then REQUESTS single charts of those in
            turn. With EZM__CONSOLE__TREND_CACHE_TTL_MS=1 every single chart reads today's rows itself.

env: BIN_DIR, DAYS (8), AGENTS (100), PIDS (10), REQUESTS (200), CASE_SECS (20), USERS (200), POLL_SECS (60),
     REVISITED (10), SEED (9: the agents and processes asked for; use another one per run with --reuse, or the
     second run finds the first one's rows in MariaDB's buffer pool).
Console settings pass through the environment (e.g. EZM__CONSOLE__OVERVIEW_CACHE_TTL_MS=0 for no card cache).
Writes results/trends-<UTC>.json.
"""
import datetime
import http.server
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import files as fb  # noqa: E402  (the services, sign-in, mysql and summary helpers)

DAYS = int(os.environ.get("DAYS", 8))
AGENTS = int(os.environ.get("AGENTS", 100))
PIDS = int(os.environ.get("PIDS", 10))
REQUESTS = int(os.environ.get("REQUESTS", 200))
CASE_SECS = float(os.environ.get("CASE_SECS", 20))
BASELINE_REPS = int(os.environ.get("BASELINE_REPS", 10))
USERS = int(os.environ.get("USERS", 200))
POLL_SECS = float(os.environ.get("POLL_SECS", 60))
REVISITED = int(os.environ.get("REVISITED", 10))
# The agents and processes asked for; another seed per run keeps MariaDB's buffer pool from holding the last run's.
SEED = int(os.environ.get("SEED", 9))
ID = "ezm_bench2_trends"
fb.CONSOLE_DB, fb.LOGS_DB, fb.PREFIX = f"{ID}_console", f"{ID}_logs", f"{ID}:"
LOGS = fb.LOGS_DB
PROCESS_TYPES = ["heapTrend", "cpuTrend", "heapSpaceTrend", "gcTrend", "uvTrend", "qpsTrend", "timerTrend", "tcpTrend", "udpTrend"]
SYSTEM_TYPES = ["osCpuTrend", "osMemoryTrend", "loadTrend", "nodeCountTrend", "osGcTrend", "diskUsageTrend", "qpsTrend", "httpResponseTrend"]
MAIN_TYPES = ["processCpuUsage", "processMemoryUsage", "systemCpuUsage", "systemMemoryUsage", "diskUsage"]
PROCESS_READ = ("pid, log_time, uptime, cpu_now, cpu_15, cpu_30, cpu_60, rss, heap_used, heap_total, heap_limit, "
                "amount_of_external_allocated_memory, new_space_size, old_space_size, code_space_size, map_space_size, "
                "lo_space_size, read_only_space_size, new_lo_space_size, code_lo_space_size, gc_time_during_last_record, "
                "scavange_duration_last_record, marksweep_duration_last_record, active_handles, active_timer_handles, "
                "active_tcp_handles, active_udp_handles, http_response_sent")
OSINFO_READ = ("position, log_time, used_cpu, cpu_count, total_memory, free_memory, load1, load5, load15, disks, node_count, "
               "total_gc_times, total_scavange_duration, scavange_duration_last_record, total_marksweep_duration, "
               "marksweep_duration_last_record, http_response_sent, http_patch_timeout, http_rt")
results = {"started": datetime.datetime.utcnow().isoformat() + "Z", "params": {
    "days": DAYS, "agents": AGENTS, "pids": PIDS, "requests": REQUESTS, "case_secs": CASE_SECS, "users": USERS,
    "poll_secs": POLL_SECS, "overview_cache_ttl_ms": os.environ.get("EZM__CONSOLE__OVERVIEW_CACHE_TTL_MS", "default"),
    "trend_cache_ttl_ms": os.environ.get("EZM__CONSOLE__TREND_CACHE_TTL_MS", "default")}}


def logs(sql):
    return fb.mysql(sql, db=LOGS)


def day_starts():
    today = datetime.datetime.now().replace(hour=0, minute=0, second=0, microsecond=0)
    return [today - datetime.timedelta(days=k) for k in range(DAYS - 1, -1, -1)]


def fill(app, start, m_lo, m_hi, top_up=False):
    """Rows of minutes [m_lo, m_hi] of the day starting at `start` into its process and osinfo tables; seconds of each."""
    day, base = f"{start.day:02d}", start.strftime("%Y-%m-%d %H:%M:%S")
    minutes = f"seq_{m_lo}_to_{m_hi}"
    dup = " ON DUPLICATE KEY UPDATE id = id" if top_up else ""
    t = time.time()
    if True:
        # p.seq: the process number (agent = p DIV PIDS, pid = 1000 + p MOD PIDS); m.seq: the minute of the day.
        logs(f"""INSERT INTO process_{day} (app, agent, pid, log_time, version, uptime, cpu_now, cpu_15, cpu_30, cpu_60,
  rss, heap_used, heap_total, heap_limit, amount_of_external_allocated_memory, new_space_size, old_space_size,
  code_space_size, map_space_size, lo_space_size, read_only_space_size, new_lo_space_size, code_lo_space_size,
  gc_time_during_last_record, scavange_duration_last_record, marksweep_duration_last_record, active_handles,
  active_timer_handles, active_tcp_handles, active_udp_handles, http_response_sent)
SELECT {app}, CONCAT('agent-', p.seq DIV {PIDS}), 1000 + p.seq MOD {PIDS}, '{base}' + INTERVAL m.seq MINUTE + INTERVAL (p.seq MOD 50) SECOND,
  '2.5.0', 86400 + m.seq * 60, (p.seq * 7 + m.seq) MOD 100, (p.seq * 7 + m.seq) MOD 90, (p.seq + m.seq) MOD 80, (p.seq + m.seq) MOD 70,
  200000000 + ((p.seq * 131 + m.seq * 17) MOD 100000) * 1000, 80000000 + ((p.seq * 7 + m.seq * 13) MOD 10000) * 1000,
  150000000, 2197815296, 3000000 + m.seq * 100, 16000000, 60000000 + m.seq * 1000, 4000000, 1000000, 20000000, 250000, 0, 0,
  (p.seq + m.seq) MOD 30, (p.seq + m.seq) MOD 20, (p.seq * 3 + m.seq) MOD 15, 20 + (p.seq + m.seq) MOD 10, 5 + m.seq MOD 4,
  10 + (p.seq + m.seq) MOD 7, m.seq MOD 2, 600 + (p.seq * 11 + m.seq) MOD 600
FROM seq_0_to_{AGENTS * PIDS - 1} AS p JOIN {minutes} AS m ORDER BY m.seq, p.seq{dup}""")
        tp = time.time() - t
        t = time.time()
        logs(f"""INSERT INTO osinfo_{day} (app, agent, uptime, log_time, position, version, used_cpu, cpu_count, total_memory,
  free_memory, load1, load5, load15, disks, node_count, total_gc_times, total_scavange_duration,
  scavange_duration_last_record, total_marksweep_duration, marksweep_duration_last_record, http_response_sent,
  http_patch_timeout, http_rt)
SELECT {app}, CONCAT('agent-', a.seq), 864000 + m.seq * 60, '{base}' + INTERVAL m.seq MINUTE + INTERVAL (a.seq MOD 50) SECOND, q.seq, '2.5.0',
  IF(q.seq = 0, ((a.seq + m.seq) MOD 100) / 100, 0), IF(q.seq = 0, 4, 0), IF(q.seq = 0, 17179869184, 0),
  IF(q.seq = 0, 4294967296 + ((a.seq * 7 + m.seq) MOD 1000) * 1000000, 0), IF(q.seq = 0, ((a.seq + m.seq) MOD 400) / 100, 0),
  IF(q.seq = 0, 1.5, 0), IF(q.seq = 0, 1.2, 0), IF(q.seq = 0, '{{"/":41,"/data":73}}', ''), IF(q.seq = 0, {PIDS}, 0),
  IF(q.seq = 1, m.seq * 30, 0), IF(q.seq = 1, m.seq * 40, 0), IF(q.seq = 1, (a.seq + m.seq) MOD 40, 0),
  IF(q.seq = 1, m.seq * 90, 0), IF(q.seq = 1, (a.seq + m.seq) MOD 90, 0), IF(q.seq = 1, 6000 + (a.seq + m.seq) MOD 600, 0),
  0, IF(q.seq = 1, 20 + ((a.seq + m.seq) MOD 100) / 10, 0)
FROM seq_0_to_{AGENTS - 1} AS a JOIN seq_0_to_1 AS q JOIN {minutes} AS m ORDER BY m.seq, a.seq, q.seq{dup}""")
        to = time.time() - t
    return tp, to


def top_up(app):
    """Today's minutes up to now (the overview reads the last 3 minutes; seeding took minutes)."""
    now = datetime.datetime.now()
    m = now.hour * 60 + now.minute
    fill(app, now.replace(hour=0, minute=0, second=0, microsecond=0), max(0, m - 15), m, top_up=True)


def seed(app):
    """One INSERT ... SELECT per day table and kind; returns seconds per table and in all."""
    out, t0 = [], time.time()
    now = datetime.datetime.now()
    for start in day_starts():
        minutes = 1440 if start.date() < now.date() else now.hour * 60 + now.minute + 1
        day = f"{start.day:02d}"
        logs(f"TRUNCATE TABLE process_{day}; TRUNCATE TABLE osinfo_{day}")
        tp, to = fill(app, start, 0, minutes - 1)
        out.append({"table_day": day, "minutes": minutes, "process_secs": round(tp, 1), "osinfo_secs": round(to, 1)})
        print(f"  seeded day {day}: {minutes} minutes, process {AGENTS * PIDS * minutes} rows in {tp:.1f} s, osinfo "
              f"{AGENTS * 2 * minutes} rows in {to:.1f} s", flush=True)
    logs("ANALYZE TABLE " + ", ".join(f"process_{s.day:02d}, osinfo_{s.day:02d}" for s in day_starts()))
    return {"tables": out, "secs": round(time.time() - t0, 1)}


class FakeWs(http.server.BaseHTTPRequestHandler):
    """A ws-server that confirms every client the manager asks about (POST /xapi/check_client_alive)."""

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")

        def find(v):
            if isinstance(v, dict):
                if isinstance(v.get("clients"), list):
                    return v["clients"]
                for x in v.values():
                    if (r := find(x)) is not None:
                        return r
            if isinstance(v, str) and v.startswith("{"):
                try:
                    return find(json.loads(v))
                except ValueError:
                    return None
            return None

        clients = find(body) or []
        reply = json.dumps({"ok": True, "data": {str(i): True for i in range(len(clients))}}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args):
        pass


def heartbeats(app, ws_port):
    now_ms = int(time.time() * 1000)
    args = ["redis-cli", "-h", "127.0.0.1", "HSET", f"{fb.PREFIX}XTRANSIT_CLIENT::{app}"]
    for a in range(AGENTS):
        args += [f"agent-{a}", json.dumps({"clientId": f"c-{a}", "server": f"http://127.0.0.1:{ws_port}", "timestamp": now_ms})]
    subprocess.run(args, capture_output=True, check=True)
    subprocess.run(["redis-cli", "-h", "127.0.0.1", "SADD", f"{fb.PREFIX}XTRANSIT_APP", str(app)], capture_output=True, check=True)


def timed(svc, session, paths, check):
    ms, bad, sample = [], 0, None
    stop_at = time.time() + CASE_SECS
    c = fb.conn(svc.cport)
    for path in paths:
        if ms and time.time() > stop_at:
            break
        t = time.perf_counter()
        c.request("GET", path, headers=fb.headers(session, False))
        r = c.getresponse()
        body = r.read()
        ms.append((time.perf_counter() - t) * 1000)
        try:
            data = json.loads(body)
            ok = r.status == 200 and data.get("ok") and check(data["data"])
        except (ValueError, KeyError, TypeError):
            ok = False
        if not ok:
            bad += 1
            sample = sample or body[:300].decode(errors="replace")
    out = fb.summary(ms)
    # Where the slowest requests fell in the run (request number: ms): a warm-up shows as low numbers.
    out["slowest"] = {i: round(m, 1) for m, i in sorted(((m, i) for i, m in enumerate(ms)), reverse=True)[:5]}
    return out, bad, sample


def server_ms(statements):
    """Server-side durations (SHOW PROFILES) of `statements` run BASELINE_REPS times; the sum per repetition."""
    script = "SET profiling_history_size = 100; SET profiling = 1;\n"
    script += "".join(";\n".join(statements) + ";\n" for _ in range(BASELINE_REPS)) + "SELECT '--profiles--';\nSHOW PROFILES;\n"
    out = fb.mysql(None, db=LOGS, stdin=script).split("--profiles--\n", 1)[1]
    d = [float(line.split("\t")[1]) * 1000 for line in out.splitlines()
         if line.count("\t") >= 2 and line.split("\t")[0].isdigit() and "profiling" not in line]
    k = len(statements)
    return fb.summary([sum(d[i:i + k]) for i in range(0, len(d) - k + 1, k)])


def baselines(app):
    day = datetime.datetime.now() - datetime.timedelta(days=1)
    lo, hi = day.strftime("%Y-%m-%d 00:00:00"), (day + datetime.timedelta(days=1)).strftime("%Y-%m-%d 00:00:00")
    t = f"{day.day:02d}"
    proc = (f"SELECT {PROCESS_READ} FROM process_{t} WHERE app = {app} AND agent = 'agent-7' AND pid = 1003 "
            f"AND log_time >= '{lo}' AND log_time < '{hi}' ORDER BY log_time, id")
    osi = (f"SELECT {OSINFO_READ} FROM osinfo_{t} WHERE app = {app} AND agent = 'agent-7' "
           f"AND log_time >= '{lo}' AND log_time < '{hi}' ORDER BY log_time, id")
    # osCpuTrend's read, as the console did it (both positions with the chart's columns) and does it now (the system
    # half with them; of the xprofiler half only position and log_time, from the `sample` key).
    where = f"app = {app} AND agent = 'agent-7' AND log_time >= '{lo}' AND log_time < '{hi}'"
    cpu_both = f"SELECT position, log_time, used_cpu, cpu_count FROM osinfo_{t} WHERE {where} ORDER BY log_time, id"
    cpu_half = (f"(SELECT position, log_time, used_cpu, cpu_count, id FROM osinfo_{t} WHERE {where} AND position = 0) "
                f"UNION ALL (SELECT position, log_time, 0, 0, id FROM osinfo_{t} WHERE {where} AND position = 1) "
                "ORDER BY log_time, id")
    out = {"process_one_day": server_ms([proc]), "osinfo_one_day": server_ms([osi]),
           "os_cpu_both_halves_one_day": server_ms([cpu_both]), "os_cpu_one_half_one_day": server_ms([cpu_half]),
           "explain_process": logs("EXPLAIN " + proc).splitlines(), "explain_osinfo": logs("EXPLAIN " + osi).splitlines(),
           "explain_os_cpu_one_half": logs("EXPLAIN " + cpu_half).splitlines()}
    for k in ("process_one_day", "osinfo_one_day", "os_cpu_both_halves_one_day", "os_cpu_one_half_one_day"):
        print(f"  baseline {k}: mysql server p50/p99 {out[k]['p50_ms']}/{out[k]['p99_ms']} ms (a week reads {DAYS} such tables)", flush=True)
    return out


def report(name, s, bad, sample, target):
    print(f"  {name:9}: n {s['n']}, p50/p90/p99/max {s['p50_ms']}/{s['p90_ms']}/{s['p99_ms']}/{s['max_ms']} ms "
          f"(target p99 < {target}), errors {bad}" + (f" e.g. {sample}" if sample else ""), flush=True)
    return {"latency": s, "errors": bad, "error_sample": sample, "target_p99_ms": target, "met": s["p99_ms"] < target and not bad}


def poll_members(app):
    """USERS accounts, each a member of `app`, with the administrator's password hash (one argon2 hash made by the
    console, not USERS of them); their sessions, signed in 4 at a time."""
    pw = fb.mysql(f"SELECT pass FROM user WHERE name = '{fb.ADMIN}'").strip()
    fb.mysql("INSERT IGNORE INTO user (name, nick, pass, identity, mail) VALUES " + ",".join(
        f"('poll-{i}@example.com', 'poll-{i}', '{pw}', 'poll-{i}', 'poll-{i}@example.com')" for i in range(USERS)))
    fb.mysql(f"INSERT IGNORE INTO members (app, user, status) SELECT {app}, id, 2 FROM user WHERE name LIKE 'poll-%@example.com'")

    def sign_in(i):
        c = fb.conn(SVC.cport)
        c.request("POST", "/xapi/signin", json.dumps({"name": f"poll-{i}@example.com", "password": fb.PASSWORD}),
                  {"content-type": "application/json", "cookie": f"csrfToken={fb.CSRF}", "x-csrf-token": fb.CSRF})
        r = c.getresponse()
        r.read()
        for k, v in r.getheaders():
            if k.lower() == "set-cookie" and v.startswith("ezm_session="):
                return v.split(";")[0].split("=", 1)[1]
        raise RuntimeError(f"sign-in of poll-{i} failed: {r.status}")

    import concurrent.futures
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        return list(pool.map(sign_in, range(USERS)))


def bench_poll(app, ws_port):
    fb.mysql("DELETE FROM files WHERE agent = 'poll-agent'")
    fb.mysql("INSERT INTO files (app, agent, type, file, storage, user, status, gm_create) VALUES " +
             ",".join(f"({app},'poll-agent','cpuprofile','/tmp/poll-{i}.cpuprofile','{'' if i < 5 else f'u-poll-{i}.gz'}',1,"
                      f"{0 if i < 5 else 3},NOW())" for i in range(10)))
    ids = [int(x) for x in fb.mysql("SELECT id FROM files WHERE agent = 'poll-agent' ORDER BY id").split()]
    status_body = json.dumps({"files": [{"fileId": fid, "fileType": "cpuprofile", "status": 0 if i < 5 else 3, "index": i}
                                        for i, fid in enumerate(ids)]})
    t = time.time()
    sessions = poll_members(app)
    signin_secs = round(time.time() - t, 1)
    card = [("overview", f"/xapi/overview_metrics?appId={app}", lambda d: d["instanceCount"] == AGENTS)]
    card += [(f"main:{k}", f"/xapi/main_metrics?appId={app}&type={k}", lambda d: len(d["list"]) == AGENTS) for k in MAIN_TYPES]
    pid = SVC.procs["console"].pid
    heartbeats(app, ws_port)
    stop = threading.Event()

    def beat():  # the agents stay online however long the poll runs
        while not stop.wait(10):
            heartbeats(app, ws_port)

    lat = {"file_status": [], "card": []}
    errors, lock = [], threading.Lock()
    barrier = threading.Barrier(USERS)

    def user(session, k):
        c = fb.conn(SVC.cport)
        mine, bad = {"file_status": [], "card": []}, []
        barrier.wait()
        time.sleep(k / USERS)  # spread the users over the second
        deadline, tick_no = time.time() + POLL_SECS, k
        while time.time() < deadline:
            tick = time.time()
            name, path, check = card[tick_no % len(card)]
            for kind, method, url, body, ok in (
                    ("file_status", "POST", "/xapi/file_status", status_body, lambda d: len(d["list"]) == 10),
                    ("card", "GET", path, None, check)):
                t = time.perf_counter()
                try:
                    c.request(method, url, body, fb.headers(session, body is not None))
                    r = c.getresponse()
                    reply = r.read()
                    data = json.loads(reply)
                    if not (r.status == 200 and data.get("ok") and ok(data["data"])):
                        bad.append(f"{kind if kind != 'card' else name}: {r.status} {reply[:200]!r}")
                except Exception as e:  # a failed request is a result, counted, not a crash of the benchmark
                    bad.append(f"{kind}: {e!r}")
                    c = fb.conn(SVC.cport)
                mine[kind].append((time.perf_counter() - t) * 1000)
            tick_no += 1
            time.sleep(max(0.0, 1.0 - (time.time() - tick)))
        with lock:
            for kind in lat:
                lat[kind].extend(mine[kind])
            errors.extend(bad)

    before = fb.rss_kb(pid)
    sampler = fb.Sampler(pid)
    sampler.start()
    threading.Thread(target=beat, daemon=True).start()
    threads = [threading.Thread(target=user, args=(s, k)) for k, s in enumerate(sessions)]
    t0 = time.time()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.time() - t0
    stop.set()
    rss = sampler.stop()
    n = len(lat["file_status"]) + len(lat["card"])
    out = {"users": USERS, "secs": POLL_SECS, "signin_secs": signin_secs, "requests": n,
           "requests_per_sec": round(n / wall, 1), "errors": len(errors), "error_samples": errors[:5],
           "latency": fb.summary(lat["file_status"] + lat["card"]), "file_status": fb.summary(lat["file_status"]),
           "card": fb.summary(lat["card"]), "rss_before_kb": before, "rss_peak_during_kb": rss["peak_kb"],
           "rss_after_kb": fb.rss_kb(pid),
           "statuses_after": fb.mysql("SELECT status, COUNT(*) FROM files WHERE agent = 'poll-agent' GROUP BY status").split()}
    out["met"] = out["errors"] == 0 and out["latency"]["p99_ms"] < 100
    for kind in ("latency", "file_status", "card"):
        s_ = out[kind]
        print(f"  poll {kind:11}: n {s_['n']}, p50/p90/p99/max {s_['p50_ms']}/{s_['p90_ms']}/{s_['p99_ms']}/{s_['max_ms']} ms "
              f"(target p99 < 100)", flush=True)
    print(f"  poll {USERS} users x {POLL_SECS:g} s: {n} requests ({out['requests_per_sec']}/s), errors {out['errors']} "
          f"(target 0){' e.g. ' + errors[0] if errors else ''}, console RSS {before} -> peak {rss['peak_kb']} -> "
          f"{out['rss_after_kb']} kB, statuses after {out['statuses_after']}", flush=True)
    return out


SVC = None


def pages(session, paths_of_page, check):
    """Page loads as the front-end makes them: the charts of one page at once, each on its own connection (a
    browser's parallel requests). Per page: the time until its last chart answered."""
    import concurrent.futures
    page_ms, chart_ms, bad, sample = [], [], 0, None
    stop_at = time.time() + CASE_SECS
    with concurrent.futures.ThreadPoolExecutor(9) as pool:
        conns = [fb.conn(SVC.cport) for _ in range(9)]

        def chart(k, path):
            t = time.perf_counter()
            conns[k].request("GET", path, headers=fb.headers(session, False))
            r = conns[k].getresponse()
            body = r.read()
            try:
                data = json.loads(body)
                ok = r.status == 200 and data.get("ok") and check(data["data"])
            except (ValueError, KeyError, TypeError):
                ok = False
            return (time.perf_counter() - t) * 1000, ok, body[:300]

        for paths in paths_of_page:
            if page_ms and time.time() > stop_at:
                break
            t = time.perf_counter()
            answers = list(pool.map(chart, range(len(paths)), paths))
            page_ms.append((time.perf_counter() - t) * 1000)
            for ms, ok, body in answers:
                chart_ms.append(ms)
                if not ok:
                    bad += 1
                    sample = sample or body.decode(errors="replace")
    return fb.summary(page_ms), fb.summary(chart_ms), bad, sample


def report_pages(name, page, chart, bad, sample):
    rss = fb.rss_kb(SVC.procs["console"].pid) // 1024
    print(f"  {name:9}: {page['n']} pages, page p50/p90/p99/max {page['p50_ms']}/{page['p90_ms']}/{page['p99_ms']}/"
          f"{page['max_ms']} ms, one chart p50/p99 {chart['p50_ms']}/{chart['p99_ms']} ms, errors {bad}, console RSS "
          f"{rss} MB after" + (f" e.g. {sample}" if sample else ""), flush=True)
    return {"page": page, "chart": chart, "errors": bad, "error_sample": sample, "console_rss_mb_after": rss}


def revisit(session, app, rnd):
    """Pages of REVISITED agents and processes not viewed before by this console, then the same pages again (past
    days now kept, console.trend_day_cache_ttl_ms), then single charts of those agents and processes in turn."""
    out = {}
    agents = rnd.sample(range(AGENTS), REVISITED)
    procs = [(rnd.randrange(AGENTS), 1000 + rnd.randrange(PIDS)) for _ in range(REVISITED)]
    ok = lambda d: len(d["list"]) == 720
    system = [[f"/xapi/system_trend?appId={app}&agentId=agent-{a}&trendType={t}&duration=168" for t in SYSTEM_TYPES] for a in agents]
    process = [[f"/xapi/process_trend?appId={app}&agentId=agent-{a}&pid={p}&trendType={t}&duration=168" for t in PROCESS_TYPES]
               for a, p in procs]
    for name, page in (("system", system), ("process", process)):
        out[f"{name}_page_first"] = report_pages(f"{name[:4]} 1st", *pages(session, page, ok))
        time.sleep(6)  # past the page's shared read (console.trend_cache_ttl_ms, default 5 s)
        out[f"{name}_page_again"] = report_pages(f"{name[:4]} again", *pages(session, page, ok))
    time.sleep(6)
    n = REQUESTS
    paths = [f"/xapi/system_trend?appId={app}&agentId=agent-{agents[i % REVISITED]}&trendType={SYSTEM_TYPES[i % 8]}&duration=168"
             for i in range(n)]
    out["system_chart_again"] = report("sys again", *timed(SVC, session, paths, ok), 50)
    paths = [f"/xapi/process_trend?appId={app}&agentId=agent-{procs[i % REVISITED][0]}&pid={procs[i % REVISITED][1]}"
             f"&trendType={PROCESS_TYPES[i % 9]}&duration=168" for i in range(n)]
    out["process_chart_again"] = report("proc again", *timed(SVC, session, paths, ok), 50)
    return out


def main():
    global SVC
    keep, reuse = "--keep" in sys.argv, "--reuse" in sys.argv
    cases = [a for a in sys.argv[1:] if not a.startswith("--")] or ["process", "system", "pages", "overview", "poll"]
    results["cases"] = cases
    results["uptime_before"] = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"machine: {results['uptime_before']}", flush=True)
    work = tempfile.mkdtemp(prefix=f"{ID}.")
    svc = SVC = fb.Services(work)
    svc.env["EZM__MANAGER__RETENTION_DAYS"] = str(max(8, DAYS))  # retention keeps the seeded day tables
    ws = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeWs)
    threading.Thread(target=ws.serve_forever, daemon=True).start()
    try:
        if not reuse:
            fb.mysql(f"DROP DATABASE IF EXISTS {fb.CONSOLE_DB}; DROP DATABASE IF EXISTS {LOGS}", db=None)
        svc.start("manager")
        svc.start("console")
        session = fb.sign_in(svc.cport)
        apps = fb.mysql("SELECT id FROM apps WHERE name = 'bench-trends'").split()
        if not apps:
            c = fb.conn(svc.cport)
            c.request("POST", "/xapi/app", json.dumps({"newAppName": "bench-trends"}), fb.headers(session))
            c.getresponse().read()
            apps = fb.mysql("SELECT id FROM apps WHERE name = 'bench-trends'").split()
        app = int(apps[0])
        have = int(logs(f"SELECT COUNT(*) FROM process_{datetime.datetime.now().day:02d}").strip() or 0)
        if reuse and have:
            print(f"  reusing the seeded data ({have} process rows today)", flush=True)
            results["seed"] = "reused"
        else:
            results["seed"] = seed(app)
            print(f"  seeding: {results['seed']['secs']} s", flush=True)
        rnd = random.Random(SEED)
        results["seed_of_requests"] = SEED
        n = REQUESTS
        if "process" in cases or "system" in cases:
            results["baseline"] = baselines(app)
        if "process" in cases:
            paths = [f"/xapi/process_trend?appId={app}&agentId=agent-{rnd.randrange(AGENTS)}&pid={1000 + rnd.randrange(PIDS)}"
                     f"&trendType={PROCESS_TYPES[i % 9]}&duration=168" for i in range(n)]
            results["process"] = report("process", *timed(svc, session, paths, lambda d: len(d["list"]) == 720), 50)
        if "system" in cases:
            paths = [f"/xapi/system_trend?appId={app}&agentId=agent-{rnd.randrange(AGENTS)}&trendType={SYSTEM_TYPES[i % 8]}"
                     f"&duration=168" for i in range(n)]
            results["system"] = report("system", *timed(svc, session, paths, lambda d: len(d["list"]) == 720), 50)
        if "pages" in cases:
            n_pages = max(1, n // 8)
            system = [[f"/xapi/system_trend?appId={app}&agentId=agent-{a}&trendType={t}&duration=168" for t in SYSTEM_TYPES]
                      for a in (rnd.randrange(AGENTS) for _ in range(n_pages))]
            results["system_page"] = report_pages("sys page", *pages(session, system, lambda d: len(d["list"]) == 720))
            process = [[f"/xapi/process_trend?appId={app}&agentId=agent-{a}&pid={p}&trendType={t}&duration=168" for t in PROCESS_TYPES]
                       for a, p in ((rnd.randrange(AGENTS), 1000 + rnd.randrange(PIDS)) for _ in range(n_pages))]
            results["process_page"] = report_pages("proc page", *pages(session, process, lambda d: len(d["list"]) == 720))
        if "revisit" in cases:
            results["revisit"] = revisit(session, app, rnd)
        if "overview" in cases or "poll" in cases:
            top_up(app)
        if "overview" in cases:
            heartbeats(app, ws.server_address[1])
            paths = [f"/xapi/main_metrics?appId={app}&type={MAIN_TYPES[i % 5]}" for i in range(n)]
            results["overview"] = report("overview", *timed(svc, session, paths, lambda d: len(d["list"]) == AGENTS), 100)
            heartbeats(app, ws.server_address[1])
            paths = [f"/xapi/overview_metrics?appId={app}" for _ in range(n)]
            results["overview_counters"] = report("counters", *timed(svc, session, paths, lambda d: d["instanceCount"] == AGENTS), 100)
        if "poll" in cases:
            results["poll"] = bench_poll(app, ws.server_address[1])
    finally:
        results["uptime_after"] = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
        print(f"machine: {results['uptime_after']}", flush=True)
        svc.stop_all()
        ws.shutdown()
        subprocess.run(["redis-cli", "-h", "127.0.0.1", "EVAL",
                        "for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end", "0", fb.PREFIX + "*"],
                       capture_output=True)
        if not keep:
            fb.mysql(f"DROP DATABASE IF EXISTS {fb.CONSOLE_DB}; DROP DATABASE IF EXISTS {LOGS}", db=None)
        os.makedirs(os.path.join(os.path.dirname(__file__), "results"), exist_ok=True)
        path = os.path.join(os.path.dirname(__file__), "results", "trends-" + datetime.datetime.utcnow().strftime("%Y%m%dT%H%M%SZ") + ".json")
        with open(path, "w") as f:
            json.dump(results, f, indent=1)
        print(f"results: {path}")


if __name__ == "__main__":
    main()
