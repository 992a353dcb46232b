#!/usr/bin/env python3
"""The checks of deploy/compose/test.sh that talk HTTP: everything goes to nginx's published loopback port with the
domain in the Host header, as a browser on this host would send it (http://console.localhost:PORT).

  check.py first  --port P --password-file F --state S   sign-in page; sign in as the compose administrator; the
      demo agent online with its process listed and a CPU trend with data; a CPU profile taken, transferred through
      nginx (the agent uploads to CONSOLE_BASE_URL, nginx's console domain) and downloaded; /readyz, /metrics, the
      ws-server's /xapi/ and the manager refused on every domain. Writes what the second run compares into S.
  check.py again  --port P --password-file F --state S   after `docker compose down` and `up`: the same password
      signs in, the app, the profile (same bytes) and the trend points from before the restart are still there, and
      the agent is back online.

Standard library only. Every wait is a condition polled until a deadline; each failure says what was expected.
"""
import argparse
import gzip
import hashlib
import http.client
import json
import sys
import time
import urllib.parse

CSRF = "ezm-compose-test"
CONSOLE = "console.localhost"
WS = "ws.localhost"
MANAGER = "manager.localhost"


class Fail(Exception):
    pass


def log(msg):
    print(f"compose-check: {msg}", flush=True)


class Http:
    def __init__(self, port):
        self.port = port

    def request(self, method, host, path, body=None, headers=None, timeout=60):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        h = {"Host": f"{host}:{self.port}"}
        h.update(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        try:
            conn.request(method, path, body=data, headers=h)
            resp = conn.getresponse()
            return resp.status, dict((k.lower(), v) for k, v in resp.getheaders()), resp.read(), resp.msg
        finally:
            conn.close()


class Console:
    """The console's API as the web UI uses it: a session cookie and the CSRF cookie echoed in a header."""

    def __init__(self, http_, session=None):
        self.http = http_
        self.session = session

    def sign_in(self, name, password):
        status, headers, body, msg = self.http.request(
            "POST", CONSOLE, "/xapi/signin", {"name": name, "password": password},
            {"Cookie": f"csrfToken={CSRF}", "x-csrf-token": CSRF})
        if status != 200:
            raise Fail(f"sign-in as {name} through nginx answered {status}: {body[:300]!r}")
        for value in msg.get_all("Set-Cookie") or []:
            if value.startswith("ezm_session="):
                token = value.split(";", 1)[0].split("=", 1)[1]
                if token:
                    self.session = token
                    return
        raise Fail(f"sign-in as {name} set no ezm_session cookie: {body[:300]!r}")

    def _headers(self):
        return {"Cookie": f"csrfToken={CSRF}; ezm_session={self.session}", "x-csrf-token": CSRF}

    def get(self, path, query):
        status, _, body, _ = self.http.request("GET", CONSOLE, path + "?" + urllib.parse.urlencode(query), None, self._headers())
        return self._data("GET", path, status, body)

    def post(self, path, payload):
        status, _, body, _ = self.http.request("POST", CONSOLE, path, payload, self._headers())
        return self._data("POST", path, status, body)

    @staticmethod
    def _data(method, path, status, body):
        try:
            reply = json.loads(body)
        except ValueError:
            raise Fail(f"{method} {path} answered {status} with no JSON: {body[:200]!r}")
        if status != 200 or reply.get("ok") is not True:
            raise Fail(f"{method} {path} answered {status}: {body[:300]!r}")
        return reply.get("data")

    def download(self, file_id, file_type):
        query = urllib.parse.urlencode({"fileId": file_id, "fileType": file_type})
        status, headers, body, _ = self.http.request("GET", CONSOLE, f"/file/download?{query}", None, self._headers(), timeout=120)
        if status != 200:
            raise Fail(f"downloading {file_type} {file_id} through nginx answered {status}: {body[:200]!r}")
        if headers.get("content-encoding") != "gzip":
            raise Fail(f"the download is not the stored gzip: {headers}")
        return body


def eventually(what, seconds, probe, every=2.0):
    """Polls probe() until it returns a true value, up to `seconds`; the last error or value is in the failure."""
    deadline = time.monotonic() + seconds
    last = None
    while True:
        try:
            value = probe()
            if value:
                return value
            last = value
        except Fail as e:
            last = e
        except (OSError, http.client.HTTPException) as e:
            last = f"{type(e).__name__}: {e}"
        if time.monotonic() >= deadline:
            raise Fail(f"{what}: not within {seconds} s (last: {str(last)[:300]})")
        time.sleep(every)


def read_password(path):
    with open(path) as f:
        password = f.read().strip()
    if not password:
        raise Fail(f"{path}: no administrator password")
    return password


def sign_in_page(h):
    status, headers, body, _ = h.request("GET", CONSOLE, "/signin")
    page = body.decode(errors="replace")
    if status != 200 or "<title>Easy-Monitor</title>" not in page or 'id="app"' not in page:
        raise Fail(f"the sign-in page through nginx (Host {CONSOLE}): {status} {page[:200]!r}")
    scripts = [p.split('"', 1)[0] for p in page.split('src="')[1:]]
    scripts = [s for s in scripts if s.endswith(".js")]
    if not scripts:
        raise Fail("the sign-in page names no script")
    path = scripts[0][2:] if scripts[0].startswith("./") else scripts[0]
    path = path if path.startswith("/") else "/" + path   # relative to <base href="/">
    status, _, body, _ = h.request("GET", CONSOLE, path)
    if status != 200 or len(body) < 1000:
        raise Fail(f"the sign-in page's script {path}: {status}, {len(body)} bytes")
    log(f"sign-in page: /signin and its script {path} ({len(body)} bytes) through nginx")


def signed_in(h, admin, password):
    api = Console(h)
    api.sign_in(admin, password)
    me = api.get("/xapi/user", {})
    if not (isinstance(me, dict) and me.get("admin") is True):
        raise Fail(f"signed in as {admin}, but /xapi/user is not an administrator: {me}")
    log(f"signed in as {admin} (administrator) with keygen's password")
    return api


def demo_app(api):
    apps = api.get("/xapi/apps", {"type": "myApps"})
    listed = apps.get("list") if isinstance(apps, dict) else apps
    for app in listed or []:
        if app.get("name") == "demo":
            return int(app.get("id") or app.get("appId"))
    raise Fail(f"the administrator has no app 'demo' (demo-setup writes it): {str(apps)[:300]}")


def agent_online(api, app):
    def probe():
        agents = api.get("/xapi/agents", {"appId": app})
        online = [a["agentId"] for a in agents.get("list", []) if a.get("online")]
        return online[0] if online else None
    agent = eventually("the demo agent is online in the console", 180, probe)
    log(f"agent {agent} of app {app} online")
    return agent


def app_process(api, app, agent):
    def probe():
        procs = api.get("/xapi/xprofiler_processes", {"appId": app, "agentId": agent}).get("list", [])
        for p in procs:
            if "app.js" in (p.get("cmd") or ""):
                return p
        return None
    proc = eventually("the demo app's node process is in the process list", 120, probe)
    log(f"process {proc['pid']} listed: {proc['cmd'][:80]}")
    return str(proc["pid"])


def cpu_trend(api, app, agent, pid):
    q = {"appId": app, "agentId": agent, "pid": pid, "trendType": "cpuTrend", "duration": "24"}

    def probe():
        points = api.get("/xapi/process_trend", q).get("list", [])
        return [p for p in points if isinstance(p.get("cpu_60"), (int, float))]
    # a 24 h chart has a point per 2 minutes, drawn once the first minute of its 2 has data
    points = eventually("the demo process's CPU trend has data", 240, probe, every=5)
    log(f"CPU trend of process {pid}: {len(points)} point(s) with data")
    return len(points)


def file_status(api, file_id, file_type):
    data = api.post("/xapi/file_status", {"files": [{"fileId": file_id, "fileType": file_type, "status": 0, "index": 0}]})
    return data["list"][0]["status"]


def cpu_profile(api, app, agent, pid):
    taken = api.post("/xapi/action", {"appId": app, "agentId": agent, "pid": int(pid), "action": "cpuprofile", "status": 0, "profilingTime": 2000})
    path = taken.get("file") if isinstance(taken, dict) else None
    if not path:
        raise Fail(f"POST /xapi/action cpuprofile returned no file: {taken}")
    page = api.get("/xapi/files", {"appId": app, "filterType": "cpuprofile", "currentPage": 1, "pageSize": 10})
    row = next((r for r in page.get("list", []) if r.get("file") == path), None)
    if row is None:
        raise Fail(f"the profile {path} is not in the files list: {str(page)[:300]}")
    file_id = row["fileId"]
    eventually("the CPU profile is written on the agent (status 1)", 120, lambda: file_status(api, file_id, "cpuprofile") == 1)
    api.post("/xapi/file_transfer", {"fileId": file_id, "fileType": "cpuprofile"})
    eventually("the CPU profile is transferred to the console through nginx (status 3)", 120,
               lambda: file_status(api, file_id, "cpuprofile") == 3)
    body = api.download(file_id, "cpuprofile")
    profile = json.loads(gzip.decompress(body))
    if not (profile.get("nodes") and isinstance(profile.get("samples"), list)):
        raise Fail("the downloaded CPU profile has no nodes or samples")
    log(f"CPU profile {file_id} taken, transferred through nginx, downloaded ({len(body)} bytes gzip, {len(profile['nodes'])} nodes)")
    return file_id, hashlib.sha256(body).hexdigest()


def refused(h):
    """What nginx keeps from the outside: this host is not in EZM_MANAGER_ALLOW (127.0.0.1 inside nginx's container)."""
    cases = [(d, p) for d in (CONSOLE, WS, MANAGER) for p in ("/readyz", "/metrics")]
    cases += [(MANAGER, "/healthz"), (WS, "/xapi/agents")]
    for host, path in cases:
        status, _, body, _ = h.request("GET", host, path)
        if status != 403:
            raise Fail(f"{host}{path} from outside answered {status} (expected 403): {body[:120]!r}")
    log("refused from outside (403): /readyz and /metrics on the three domains, the manager domain, the ws-server's /xapi/")


def ws_upgrade(h):
    """The ws domain hands a WebSocket handshake to the ws-server (its answer, not nginx's 404/400)."""
    status, headers, body, _ = h.request("GET", WS, "/", None, {
        "Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="})
    if status != 101:
        raise Fail(f"a WebSocket handshake on {WS} answered {status}: {body[:120]!r}")
    log(f"WebSocket handshake through nginx on {WS}: 101")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["first", "again"])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--password-file", required=True)
    ap.add_argument("--admin", default="admin@easy-monitor.local")
    ap.add_argument("--state", required=True)
    args = ap.parse_args()
    h = Http(args.port)
    password = read_password(args.password_file)
    try:
        if args.mode == "first":
            sign_in_page(h)
            ws_upgrade(h)
            api = signed_in(h, args.admin, password)
            app = demo_app(api)
            agent = agent_online(api, app)
            pid = app_process(api, app, agent)
            # the profile first: the trend's first point may take 2 minutes, which the profile's round trip shortens
            file_id, digest = cpu_profile(api, app, agent, pid)
            points = cpu_trend(api, app, agent, pid)
            refused(h)
            state = {"app": app, "agent": agent, "pid": pid, "points": points, "file": file_id, "sha256": digest}
            with open(args.state, "w") as f:
                json.dump(state, f)
        else:
            with open(args.state) as f:
                state = json.load(f)
            sign_in_page(h)
            api = signed_in(h, args.admin, password)
            app = demo_app(api)
            if app != state["app"]:
                raise Fail(f"the demo app is {app} after the restart, {state['app']} before")
            body = api.download(state["file"], "cpuprofile")
            if hashlib.sha256(body).hexdigest() != state["sha256"]:
                raise Fail("the CPU profile downloaded after the restart differs from the one before")
            log(f"after the restart: app {app} and CPU profile {state['file']} (same bytes) kept")
            q = {"appId": app, "agentId": state["agent"], "pid": state["pid"], "trendType": "cpuTrend", "duration": "24"}
            points = [p for p in api.get("/xapi/process_trend", q).get("list", []) if isinstance(p.get("cpu_60"), (int, float))]
            if len(points) < 1:
                raise Fail(f"the CPU trend of process {state['pid']} from before the restart is gone")
            log(f"the CPU trend from before the restart kept ({len(points)} point(s))")
            agent_online(api, app)
            refused(h)
    except Fail as e:
        print(f"compose-check: FAIL: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
