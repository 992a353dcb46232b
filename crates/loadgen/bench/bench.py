#!/usr/bin/env python3
"""Benchmarks of the agent data path: release builds of manager and ws-server(s) on this machine against the local
MariaDB and Redis, driven by ezm-loadgen. Prints a JSON report with the figures and the targets they are compared to.

  bench.py capacity  --agents 10000 [--duration 240]   agents at the real 60 s rhythm, 2 processes each
  bench.py ingestion --agents 1000 --processes 4        agents sending every log kind every second
  bench.py command   --agents 10000 --count 200         get_os_info round trips through the manager
  bench.py memory    --agents 10000 [--duration 180]   ws-server RSS beyond idle per agent: a heartbeat-only run
                                                        (no log rounds), then a run at the real 60 s rhythm

EZM_BENCH_BIN=<dir> uses the binaries in <dir>; EZM_BENCH_WS_PREFIX (e.g. "heaptrack -o /tmp/ws") runs each ws-server under
that command, for heap profiles (heaptrack does not pass SIGTERM on: stop the profiled ws-server by its pid after the run).
EZM_BENCH_LOG_FILTER sets the services' log filter (default warn; the services' own default, and so production's, is
info, under which each agent socket's tracing span is live). `memory --runs heartbeat_only` runs only one of the two.

The process limit on open files here is 20000 (a container setting that root cannot raise), so runs beyond ~19000
agents use several ws-server processes and several loadgen processes, each under the limit; the manager tracks which
ws-server holds which agent, as in a scaled-out deployment. Every run is bounded in time and uses loopback only.
"""
import argparse, json, os, platform, re, secrets, signal, subprocess, sys, time, urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "../../.."))
BIN = os.environ.get("EZM_BENCH_BIN", os.path.join(ROOT, "target/release"))  # another build's binaries, for before/after
DB = "ezm_bench"
LOG_FILTER = os.environ.get("EZM_BENCH_LOG_FILTER", "warn")  # "info" is the services' default (what users run)
PER_PROCESS = 18000  # connections per ws-server / loadgen process (open-file limit 20000)
# The original services, measured on this kind of machine with one worker each (issue 2).
ORIGINAL = {"agents_at_60s": 7500, "rows_per_sec": 450}


def sh(cmd):
    return subprocess.run(cmd, shell=True, check=True, capture_output=True, text=True).stdout


def mysql(sql, db=""):
    return sh(f"mysql -h 127.0.0.1 -uroot -N {db} -e \"{sql}\"").strip()


def proc_stat(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    with open(f"/proc/{pid}/status") as f:
        rss_kb = int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))
    return ticks, rss_kb * 1024


def get(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.read().decode()


def metric(text, name):
    m = re.search(rf"^{re.escape(name)} ([0-9.e+]+)$", text, re.M)
    return float(m.group(1)) if m else 0.0


def lag_buckets(text):
    return {m.group(1): float(m.group(2)) for m in re.finditer(r'^ezm_manager_ingest_lag_seconds_bucket\{le="([^"]+)"\} (\S+)$', text, re.M)}


def p99_bound(start, end):
    counts = {le: end.get(le, 0) - start.get(le, 0) for le in end}
    total = counts.get("+Inf", 0)
    if total == 0:
        return None
    for le, n in sorted(counts.items(), key=lambda kv: float("inf") if kv[0] == "+Inf" else float(kv[0])):
        if n >= 0.99 * total:
            return le
    return "+Inf"


# Alarm rules spread over the four contexts for `ingestion --rules N`: real shapes (arithmetic, &&, ||, strings,
# include) with thresholds the simulated agents never reach, so the figure is the cost of evaluating every rule on
# every log (a rule that fires writes a history row; a firing rate is a property of the rules, not of the engine).
RULE_SHAPES = [
    ("xprofiler_log", '@heap_used / @heap_limit > {t} && @rss > 0'),
    ("xprofiler_log", '@cpu_60 > {t} * 100 || @gc_60 > {t} * 100'),
    ("system_log", '@os_mem_usage > {t} * 100 || @code_5xx / (@http_response_sent + 1) > {t}'),
    ("system_log", '@disk_usage > {t} * 100 && @mounted_on == "/"'),
    ("error_log", '@error_type == "RuleBenchError{i}" || @stack include "rule-bench-{i}"'),
    ("xtransit_notification", '@core_count > {t} * 1000 || @agentOffline == "rule-bench-{i}"'),
]


def add_rules(n, db=None):
    """Inserts the rules through mysql's stdin (the texts hold quotes and `${`, which a shell would eat)."""
    values = []
    for i in range(n):
        context, shape = RULE_SHAPES[i % len(RULE_SHAPES)]
        values.append(f"(1, '{context}', 'p4', 0, '{shape.format(t=2 + i, i=i)}', 'rule {i}: ${{@agentId}}')")
    for start in range(0, len(values), 100):
        sql = "INSERT INTO strategies (app, context, push, webhook, expression, content) VALUES " + ", ".join(values[start:start + 100])
        subprocess.run(["mysql", "-h", "127.0.0.1", "-uroot", db or f"{DB}_console"], input=sql, text=True, check=True)


class Stack:
    def __init__(self, ws_servers, log_dir, rules=0):
        self.secret = secrets.token_hex(16)
        self.app_secret = secrets.token_hex(16)
        self.procs, self.log_dir = [], log_dir
        os.makedirs(log_dir, exist_ok=True)
        mysql(f"DROP DATABASE IF EXISTS {DB}_console; DROP DATABASE IF EXISTS {DB}_logs")
        sh(f"redis-cli -h 127.0.0.1 --scan --pattern '{DB}:*' | xargs -r redis-cli -h 127.0.0.1 del")
        env = dict(os.environ, EZM__CONSOLE_MYSQL__DATABASE=f"{DB}_console", EZM__LOGS_MYSQL__DATABASE=f"{DB}_logs",
                   EZM__REDIS__KEY_PREFIX=f"{DB}:", EZM__SHARED__SECRET=self.secret, EZM__LOG__FORMAT="json",
                   EZM__LOG__FILTER=LOG_FILTER, EZM__MANAGER__HOST="127.0.0.1")
        self.manager = self.spawn("manager", [f"{BIN}/manager"], env)
        self.wait_http("http://127.0.0.1:8543/healthz")
        mysql(f"INSERT INTO apps (id, name, owner, secret) VALUES (1, 'bench', 1, '{self.app_secret}')", f"{DB}_console")
        add_rules(rules)
        self.ws = []
        for i in range(ws_servers):
            port = 9190 + i
            wenv = dict(env, EZM__WS_SERVER__HOST="127.0.0.1", EZM__WS_SERVER__PORT=str(port),
                        EZM__WS_SERVER__ADVERTISE_ADDRESS=f"127.0.0.1:{port}")
            prefix = os.environ.get("EZM_BENCH_WS_PREFIX", "").split()
            self.ws.append((port, self.spawn(f"ws-server-{i}", prefix + [f"{BIN}/ws-server"], wenv)))
        for port, _ in self.ws:
            self.wait_http(f"http://127.0.0.1:{port}/healthz")

    def spawn(self, name, cmd, env):
        out = open(os.path.join(self.log_dir, f"{name}.log"), "w")
        p = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
        self.procs.append(p)
        return p

    def wait_http(self, url):
        for _ in range(150):
            try:
                get(url)
                return
            except Exception:
                time.sleep(0.2)
        raise SystemExit(f"{url} did not come up")

    def server_pids(self):
        return [self.manager.pid] + [p.pid for _, p in self.ws]

    def rows(self):
        tables = [f"{t}_{d:02d}" for t in ("process", "osinfo") for d in range(1, 32)]
        sql = " UNION ALL ".join(f"SELECT '{t}', COUNT(*) FROM {t}" for t in tables)
        out = mysql(sql, f"{DB}_logs")
        counts = {"process": 0, "osinfo": 0}
        for line in out.splitlines():
            table, n = line.split("\t")
            counts[table.split("_")[0]] += int(n)
        return counts

    def stop(self):
        for p in self.procs:
            p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=40)
            except subprocess.TimeoutExpired:
                p.kill()


def loadgens(stack, agents, duration, heartbeat, interval, processes, ramp, errors, log_dir):
    """Splits `agents` over the ws-servers, one loadgen process per ws-server."""
    n = len(stack.ws)
    per = -(-agents // n)
    runs = []
    for i, (port, _) in enumerate(stack.ws):
        count = min(per, agents - i * per)
        if count <= 0:
            break
        summary = os.path.join(log_dir, f"loadgen-{i}.json")
        cmd = [f"{BIN}/ezm-loadgen", "--url", f"ws://127.0.0.1:{port}/", "--app-secret", stack.app_secret,
               "--agents", str(count), "--first-index", str(i * per), "--ramp-per-sec", str(max(1, ramp // n)),
               "--duration-secs", str(duration), "--heartbeat-secs", str(heartbeat), "--log-interval-secs", str(interval),
               "--processes", str(processes), "--summary-json", summary, "--progress-secs", "0",
               "--source-ips", f"127.0.{i + 1}.1,127.0.{i + 1}.2"]
        if errors:
            cmd.append("--errors")
        out = open(os.path.join(log_dir, f"loadgen-{i}.log"), "w")
        runs.append((subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT), summary, cmd))
    return runs


def sample(stack):
    return {pid: proc_stat(pid) for pid in stack.server_pids()}


def machine():
    cpu = re.search(r"model name\s*:\s*(.*)", open("/proc/cpuinfo").read())
    mem = re.search(r"MemTotal:\s+(\d+)", open("/proc/meminfo").read())
    return {"cpus": os.cpu_count(), "cpu_model": cpu.group(1) if cpu else "?", "mem_gib": round(int(mem.group(1)) / 2**20, 1),
            "kernel": platform.release()}


def run_agents(args, interval, processes, ramp, errors, rules=0):
    log_dir = os.path.join("/tmp", f"ezm-bench-{args.scenario}-{args.agents}-{rules}")
    ws_count = max(1, -(-args.agents // PER_PROCESS))
    stack = Stack(ws_count, log_dir, rules)
    report = {"scenario": args.scenario, "agents": args.agents, "ws_servers": ws_count, "alarm_rules": rules, "machine": machine()}
    try:
        time.sleep(1)
        idle = sample(stack)
        runs = loadgens(stack, args.agents, args.duration, 60, interval, processes, ramp, errors, log_dir)
        report["commands"] = [" ".join(c).replace(stack.app_secret, "<app secret>") for _, _, c in runs]
        ramp_secs = args.agents / ramp
        time.sleep(ramp_secs + args.settle)
        metrics0 = get("http://127.0.0.1:8543/metrics")
        t0, s0 = time.time(), sample(stack)
        connected = sum(metric(get(f"http://127.0.0.1:{p}/metrics"), "ezm_ws_connections") for p, _ in stack.ws)
        window = args.duration - ramp_secs - args.settle - 5
        time.sleep(max(10, window))
        t1, s1 = time.time(), sample(stack)
        metrics1 = get("http://127.0.0.1:8543/metrics")
        for p, _, _ in runs:
            p.wait(timeout=args.duration + 120)
        # Let the last frames land: wait until the manager's row counters stop moving (at most 60 s).
        last, steady_since = None, time.time()
        for _ in range(120):
            m = get("http://127.0.0.1:8543/metrics")
            now = metric(m, "ezm_manager_process_rows_total") + metric(m, "ezm_manager_osinfo_rows_total")
            if now != last:
                last, steady_since = now, time.time()
            elif time.time() - steady_since >= 3:
                break
            time.sleep(0.5)
        summaries = [json.load(open(s)) for _, s, _ in runs]
        rows = stack.rows()
        expected_process = sum(s["expected_process_rows"] for s in summaries)
        expected_osinfo = sum(s["expected_osinfo_rows"] for s in summaries)
        ws_pids = [p.pid for _, p in stack.ws]
        cpu = {pid: (s1[pid][0] - s0[pid][0]) / 100 / (t1 - t0) for pid in s1}
        ws_rss_growth = sum(s1[pid][1] - idle[pid][1] for pid in ws_pids)
        ws_metrics = [get(f"http://127.0.0.1:{p}/metrics") for p, _ in stack.ws]
        report.update({
            "connected_in_window": connected,
            "connect_failures": sum(s["connect_failures"] for s in summaries),
            "disconnects_by_server": sum(s["disconnects_by_server"] for s in summaries),
            "frames_sent": sum(s["frames_sent"]["total"] for s in summaries),
            "rows_expected": {"process": expected_process, "osinfo": expected_osinfo},
            "rows_stored": rows,
            "rows_stored_pct": round(100 * (rows["process"] + rows["osinfo"]) / max(1, expected_process + expected_osinfo), 3),
            "window_secs": round(t1 - t0, 1),
            "rows_per_sec_in_window": round((metric(metrics1, "ezm_manager_process_rows_total") + metric(metrics1, "ezm_manager_osinfo_rows_total")
                                             - metric(metrics0, "ezm_manager_process_rows_total") - metric(metrics0, "ezm_manager_osinfo_rows_total")) / (t1 - t0), 1),
            "lag_p99_le_secs": p99_bound(lag_buckets(metrics0), lag_buckets(metrics1)),
            "cpu_cores": {"manager": round(cpu[stack.manager.pid], 3), "ws_servers": round(sum(cpu[p] for p in ws_pids), 3)},
            "cpu_cores_total": round(sum(cpu.values()), 3),
            "ws_rss_idle_bytes": sum(idle[p][1] for p in ws_pids),
            "ws_rss_bytes": sum(s1[p][1] for p in ws_pids),
            "ws_rss_per_agent_bytes": round(ws_rss_growth / max(1, connected)),
            "manager_rss_bytes": s1[stack.manager.pid][1],
            "rows_failed": metric(metrics1, "ezm_manager_rows_failed_total"),
            "forward_failed": sum(metric(m, "ezm_ws_forward_failed_total") for m in ws_metrics),
            "frames_rejected": sum(metric(m, "ezm_ws_frames_rejected_total") for m in ws_metrics),
            "frames_stale": sum(metric(m, "ezm_ws_frames_stale_total") for m in ws_metrics),
            "alarm_events_dropped": metric(metrics1, "ezm_manager_alarm_events_dropped_total"),
            "alarms_fired": metric(metrics1, "ezm_manager_alarms_fired_total"),
        })
        return report, stack
    except BaseException:
        stack.stop()
        raise


def raise_open_file_limit():
    """The services inherit this process's limit: raise the soft limit to the hard one."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def main():
    nofile = raise_open_file_limit()
    global PER_PROCESS
    PER_PROCESS = min(PER_PROCESS, max(100, nofile - 2000))
    ap = argparse.ArgumentParser()
    ap.add_argument("scenario", choices=["capacity", "ingestion", "command", "memory"])
    ap.add_argument("--agents", type=int, default=10000)
    ap.add_argument("--duration", type=int, default=240)
    ap.add_argument("--settle", type=int, default=15)
    ap.add_argument("--processes", type=int, default=None)
    ap.add_argument("--ramp", type=int, default=500)
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--runs", default="heartbeat_only,real_rhythm", help="memory: which runs")
    ap.add_argument("--rules", default="0", help="ingestion: alarm rules of the app, e.g. 0,200 for one run of each, side by side")
    args = ap.parse_args()
    if args.scenario == "ingestion":
        reports = []
        for rules in [int(r) for r in args.rules.split(",")]:
            report, stack = run_agents(args, 1, args.processes or 4, args.ramp, False, rules)
            report["baseline_original_rows_per_sec"] = ORIGINAL["rows_per_sec"]
            report["x_original"] = round(report["rows_per_sec_in_window"] / ORIGINAL["rows_per_sec"], 1)
            stack.stop()
            reports.append(report)
        if len(reports) > 1:
            keys = ["alarm_rules", "rows_per_sec_in_window", "rows_stored_pct", "lag_p99_le_secs", "cpu_cores", "alarm_events_dropped", "alarms_fired"]
            print("side by side: " + json.dumps([{k: r[k] for k in keys} for r in reports]), file=sys.stderr)
        report = reports if len(reports) > 1 else reports[0]
    elif args.scenario == "capacity":
        report, stack = run_agents(args, 60, args.processes or 2, args.ramp, True)
        report["baseline_original_agents"] = ORIGINAL["agents_at_60s"]
        stack.stop()
    elif args.scenario == "memory":
        # Heartbeat-only: a log period of ~3 years, so no agent's first log round (at a random offset within one
        # period) comes within the run.
        keys = ["connected_in_window", "ws_rss_idle_bytes", "ws_rss_bytes", "ws_rss_per_agent_bytes", "cpu_cores", "rows_stored_pct"]
        runs = {}
        chosen = args.runs.split(",")
        for name, interval in [(n, i) for n, i in [("heartbeat_only", 100_000_000), ("real_rhythm", 60)] if n in chosen]:
            args.scenario = f"memory-{name}"
            r, stack = run_agents(args, interval, args.processes or 2, args.ramp, True)
            stack.stop()
            runs[name] = {k: r[k] for k in keys}
            runs[name]["commands"] = r["commands"]
        report = {"scenario": "memory", "agents": args.agents, "duration_secs": args.duration, "settle_secs": args.settle,
                  "log_filter": LOG_FILTER, "machine": machine(), "runs": runs,
                  "ws_rss_per_agent_bytes": {n: v["ws_rss_per_agent_bytes"] for n, v in runs.items()}}
    else:
        # Agents connected for the whole measurement; commands start once they are all in.
        args.scenario = "command"
        log_dir = f"/tmp/ezm-bench-command-{args.agents}"
        ws_count = max(1, -(-args.agents // PER_PROCESS))
        stack = Stack(ws_count, log_dir)
        try:
            runs = loadgens(stack, args.agents, args.duration, 60, 60, 2, args.ramp, False, log_dir)
            time.sleep(args.agents / args.ramp + args.settle)
            connected = sum(metric(get(f"http://127.0.0.1:{p}/metrics"), "ezm_ws_connections") for p, _ in stack.ws)
            summary = os.path.join(log_dir, "command.json")
            cmd = [f"{BIN}/ezm-loadgen", "command", "--manager", "http://127.0.0.1:8543", "--secret", stack.secret,
                   "--agents", str(args.agents), "--count", str(args.count), "--concurrency", "1", "--summary-json", summary]
            subprocess.run(cmd, check=True, capture_output=True)
            report = {"scenario": "command", "agents": args.agents, "connected": connected, "machine": machine(),
                      "command": " ".join(cmd).replace(stack.secret, "<secret>"), "result": json.load(open(summary))}
            for p, _, _ in runs:
                p.send_signal(signal.SIGINT)
        finally:
            stack.stop()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
