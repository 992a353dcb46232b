"""Offline checks of the deployment files (called by deploy/validate.sh, which provides PyYAML).

Checks docker-compose.yml (with .env and .env.example), deploy/Dockerfile, deploy/demo/Dockerfile, .dockerignore
and deploy/k8s (its sources and the rendered `kubectl kustomize` output) for what the services need:
health checks and probes on /healthz and /readyz, start-up order, the advertise address, and that every
environment variable name given to the services is one they read (taken from crates/common/src/settings.rs and
crates/common/src/defaults.toml, so the list follows the code).
"""

import argparse
import json
import re
import sys
import tomllib
from pathlib import Path

import yaml

SERVICES = {"ws-server": 9190, "manager": 8543, "console": 8443}
K8S_NAMES = {"ws-server": "ezm-ws-server", "manager": "ezm-manager", "console": "ezm-console"}
# Names the services read besides the settings table: the config file path, the tracing filter and the local time
# zone (the manager's day tables follow it).
EXTRA_ENV = {"EZM_CONFIG", "RUST_LOG", "TZ"}
# The original's shared secret: public, so no deployment file may use it.
PUBLIC_SECRET = "easy-monitor::xprofiler"
# Set in a Deployment only to build another variable ($(POD_IP):9190).
K8S_HELPER_ENV = {"POD_IP"}

problems = []
checked = []


def fail(msg):
    problems.append(msg)


def ok(msg):
    checked.append(msg)


def known_env(root):
    """Environment names the services read: the legacy table, EZM__SECTION__KEY for every default key, extras."""
    settings = (root / "crates/common/src/settings.rs").read_text()
    block = re.search(r"pub const LEGACY_ENV[^=]*=\s*&\[(.*?)\n\];", settings, re.S)
    if not block:
        sys.exit("validate: cannot find LEGACY_ENV in crates/common/src/settings.rs")
    legacy = set(re.findall(r'\(\s*"([A-Z0-9_]+)"\s*,', block.group(1)))
    defaults = tomllib.loads((root / "crates/common/src/defaults.toml").read_text())
    structured = {
        f"EZM__{section.upper()}__{key.upper()}"
        for section, table in defaults.items()
        if isinstance(table, dict)
        for key in table
    }
    return legacy, structured | legacy | EXTRA_ENV


def check_env_names(where, names, allowed, helpers=frozenset()):
    # `<NAME>_FILE=/path` gives any name the settings loader reads (not the extras) from a file (with_file_values).
    file_forms_ok = {f"{n}_FILE" for n in allowed if n not in EXTRA_ENV}
    unknown = sorted(n for n in names if n not in allowed and n not in helpers and n not in file_forms_ok)
    if unknown:
        fail(f"{where}: environment names no service reads: {', '.join(unknown)}")
    else:
        ok(f"{where}: {len(names)} env names, all read by the services")


def healthcheck_cmd(svc):
    test = (svc.get("healthcheck") or {}).get("test")
    if isinstance(test, list):
        return " ".join(str(t) for t in test)
    return str(test or "")


# ---- docker compose and the images (deploy/Dockerfile, deploy/demo/Dockerfile) ---------------------------------

COMPOSE_IMAGE = "easy-monitor/easy-monitor"
# One-shot services: they run to completion (restart "no", no health check); others depend on their success.
COMPOSE_ONE_SHOTS = {"keygen", "demo-setup"}
COMPOSE_SERVICES = ["keygen", "mysql", "redis", *SERVICES, "nginx", "demo-setup", "demo"]
# The secrets volume: keygen writes these files once, everything else mounts it read-only (demo-setup adds the id).
SECRETS_DIR = "/run/ezm"
SECRET_FILES = ["ezm_secret", "db_password", "db_root_password", "demo_app_secret"]
SECRET_ENV_NAME = re.compile(r"(SECRET|PASSWORD|PASSWD|TOKEN|API_KEY)(_INIT)?$")
# What compose gives when no variable is set (the committed .env sets only COMPOSE_PROFILES).
COMPOSE_DEFAULTS = {
    "CONSOLE_BASE_URL": "http://console.localhost:8080",
    "EZM_SERVER": "ws://ws.localhost:8080/",
    "EZM_HTTP_PORT": "8080",
    "domains": ["console.localhost", "ws.localhost", "manager.localhost"],
}


def compose_env(svc):
    env = svc.get("environment") or {}
    if isinstance(env, list):
        env = dict(e.split("=", 1) if "=" in e else (e, None) for e in env)
    return {k: "" if v is None else str(v) for k, v in env.items()}


def compose_mounts(svc):
    """(source, target, read_only) of every volume, from the long form `docker compose config` prints."""
    out = []
    for v in svc.get("volumes") or []:
        if isinstance(v, dict):
            out.append((str(v.get("source", "")), v.get("target"), bool(v.get("read_only"))))
        else:
            parts = str(v).split(":")
            out.append((parts[0], parts[1] if len(parts) > 1 else parts[0], len(parts) > 2 and "ro" in parts[2]))
    return out


def compose_script(svc):
    """The shell text of an `entrypoint: [/bin/sh, -c]` service, as the container receives it ($$ -> $)."""
    cmd = svc.get("command") or []
    text = cmd[0] if isinstance(cmd, list) and cmd else str(cmd)
    return text.replace("$$", "$")


def check_compose(root, compose, allowed, stages):
    services = compose.get("services") or {}
    resolved = "${" not in json.dumps({n: s.get("image") for n, s in services.items()})
    if not resolved:
        fail("docker-compose.yml: not resolved by `docker compose config` (run deploy/validate.sh): not checked")
        return
    for name in COMPOSE_SERVICES:
        if name not in services:
            fail(f"docker-compose.yml: service {name} missing (config resolved with the demo profile)")

    # Start-up order: every service but the one-shots has a health check; depends_on waits for health or success.
    for name, svc in services.items():
        where = f"docker-compose.yml: {name}"
        if name in COMPOSE_ONE_SHOTS:
            if svc.get("restart") not in (None, "no"):
                fail(f"{where}: one-shot service with restart {svc.get('restart')!r}")
        elif not healthcheck_cmd(svc):
            fail(f"{where}: no healthcheck")
        elif svc.get("restart") != "unless-stopped":
            fail(f"{where}: restart is {svc.get('restart')!r}, expected unless-stopped")
        deps = svc.get("depends_on") or {}
        if isinstance(deps, list):
            fail(f"{where}: depends_on without conditions")
            deps = {}
        for dep, spec in deps.items():
            want = "service_completed_successfully" if dep in COMPOSE_ONE_SHOTS else "service_healthy"
            if (spec or {}).get("condition") != want:
                fail(f"{where}: depends_on {dep} with condition {(spec or {}).get('condition')!r}, expected {want}")
            elif want == "service_healthy" and not healthcheck_cmd(services.get(dep, {})):
                fail(f"{where}: depends on {dep}, which has no healthcheck")
    ok("docker-compose.yml: health checks on all but the one-shots; depends_on waits for healthy / completed")

    # No literal secret anywhere: compose resolved this with no variable set, so a secret-named value is literal.
    for name, svc in services.items():
        for key, value in compose_env(svc).items():
            if key.endswith("_FILE"):
                if not value.startswith(SECRETS_DIR + "/") or value[len(SECRETS_DIR) + 1:] not in SECRET_FILES:
                    fail(f"docker-compose.yml: {name}: {key}={value} is not a file keygen writes in {SECRETS_DIR}")
            elif SECRET_ENV_NAME.search(key) and value:
                fail(f"docker-compose.yml: {name}: {key} has a literal value (secrets come from {SECRETS_DIR})")
            if PUBLIC_SECRET in value:
                fail(f"docker-compose.yml: {name}: {key} uses the public default secret")
    ok(f"docker-compose.yml: no literal secret; every *_FILE names a file of {SECRETS_DIR}")

    # keygen: the secrets, once, as root, into the volume; it also builds the one image.
    kg = services.get("keygen") or {}
    script = compose_script(kg)
    if kg.get("user") != "0:0" or kg.get("entrypoint") != ["/bin/sh", "-c"]:
        fail("docker-compose.yml: keygen must run as user 0:0 with entrypoint [/bin/sh, -c]")
    for f in SECRET_FILES:
        if f"put {f} " not in script:
            fail(f"docker-compose.yml: keygen does not write {SECRETS_DIR}/{f}")
    if "/dev/urandom" not in script or '[ -s "$f" ]' not in script:
        fail("docker-compose.yml: keygen must write random values only when the file is absent")
    secrets_volume = None
    for source, target, ro in compose_mounts(kg):
        if target == SECRETS_DIR and not ro:
            secrets_volume = source
    if not secrets_volume:
        fail(f"docker-compose.yml: keygen does not mount a volume read-write at {SECRETS_DIR}")
    for name, svc in services.items():
        for source, target, ro in compose_mounts(svc):
            if source == secrets_volume and name not in COMPOSE_ONE_SHOTS and not ro:
                fail(f"docker-compose.yml: {name} mounts the secrets volume read-write")

    # The three services: one image, the command picks the service.
    images = {n: (services.get(n) or {}).get("image") for n in [*SERVICES, "keygen"]}
    image = images.get("manager") or ""
    if len(set(images.values())) != 1 or not image.startswith(COMPOSE_IMAGE + ":"):
        fail(f"docker-compose.yml: ws-server, manager, console and keygen must use one image "
             f"{COMPOSE_IMAGE}:<tag> ({images})")
    builders = [n for n, s in services.items() if s.get("image") == image and s.get("build")]
    if len(builders) != 1:
        fail(f"docker-compose.yml: {COMPOSE_IMAGE} must be built by exactly one service (found {builders})")
    for n in builders:
        build = services[n]["build"]
        if Path(str(build.get("dockerfile", ""))).as_posix() not in ("deploy/Dockerfile", str(root / "deploy/Dockerfile")):
            fail(f"docker-compose.yml: {n}: build.dockerfile is {build.get('dockerfile')!r}, not deploy/Dockerfile")
        if build.get("target") not in (None, stages[-1] if stages else None):
            fail(f"docker-compose.yml: {n}: build.target {build.get('target')!r} is not the final stage")
    for name, port in SERVICES.items():
        svc = services.get(name)
        if not svc:
            continue
        where = f"docker-compose.yml: {name}"
        if svc.get("command") != [name]:
            fail(f"{where}: command is {svc.get('command')!r}, expected [{name!r}]")
        hc = healthcheck_cmd(svc)
        if f"127.0.0.1:{port}/healthz" not in hc or "curl" not in hc:
            fail(f"{where}: healthcheck does not curl 127.0.0.1:{port}/healthz ({hc!r})")
        if str(svc.get("stop_grace_period")) != "30s":
            fail(f"{where}: stop_grace_period is not 30s")
        published = {str(p.get("target")) for p in svc.get("ports") or [] if isinstance(p, dict)}
        if name == "manager" and svc.get("ports"):
            fail(f"{where}: publishes ports (internal API)")
        elif name != "manager" and published != {str(port)}:
            fail(f"{where}: publishes {sorted(published)}, expected container port {port}")
        if not any(t == SECRETS_DIR and ro and s == secrets_volume for s, t, ro in compose_mounts(svc)):
            fail(f"{where}: the secrets volume is not mounted read-only at {SECRETS_DIR}")
        env = compose_env(svc)
        expected = {"MANAGER_BASE_URL": "http://manager:8543", "DB_SERVER_HOST": "mysql", "DB_USERNAME": "ezm",
                    "EZM_SECRET_FILE": f"{SECRETS_DIR}/ezm_secret", "DB_PASSWORD_FILE": f"{SECRETS_DIR}/db_password",
                    "CONSOLE_BASE_URL": COMPOSE_DEFAULTS["CONSOLE_BASE_URL"]}
        for key, value in expected.items():
            if env.get(key) != value:
                fail(f"{where}: {key} is {env.get(key)!r}, expected {value!r}")
        if not ({"REDIS_SERVER", "REDIS_SERVER_HOST"} & set(env)):
            fail(f"{where}: REDIS_SERVER (or REDIS_SERVER_HOST) not set")
        check_env_names(where, list(env), allowed)
        ok(f"{where}: image {image}, command [{name}], /healthz probe, secrets as files, "
           + ("no published port" if name == "manager" else f"port {port} published"))
    if compose_env(services.get("ws-server") or {}).get("EZM__WS_SERVER__ADVERTISE_ADDRESS") != "ws-server:9190":
        fail("docker-compose.yml: ws-server EZM__WS_SERVER__ADVERTISE_ADDRESS is not ws-server:9190")
    if not any(t == "/var/lib/easy-monitor" and not ro for _, t, ro in compose_mounts(services.get("console") or {})):
        fail("docker-compose.yml: console has no data volume at /var/lib/easy-monitor")

    # MySQL 8 with the secrets as files, the grants script, a TCP health check; Redis 7.
    mysql = services.get("mysql") or {}
    menv = compose_env(mysql)
    if not str(mysql.get("image", "")).startswith("mysql:8."):
        fail(f"docker-compose.yml: mysql image is {mysql.get('image')!r}, expected mysql:8.x")
    if menv.get("MYSQL_USER") != "ezm" or not {"MYSQL_PASSWORD_FILE", "MYSQL_ROOT_PASSWORD_FILE"} <= set(menv):
        fail("docker-compose.yml: mysql needs MYSQL_USER=ezm, MYSQL_PASSWORD_FILE and MYSQL_ROOT_PASSWORD_FILE")
    init = [s for s, t, _ in compose_mounts(mysql) if t == "/docker-entrypoint-initdb.d"]
    grants = "".join(p.read_text() for p in (root / "deploy/compose/mysql-init").glob("*.sql"))
    if not init or not init[0].endswith("deploy/compose/mysql-init") or \
            not all(f"`{db}`.* TO 'ezm'" in grants for db in ("xprofiler_console", "xprofiler_logs")):
        fail("docker-compose.yml: mysql does not mount deploy/compose/mysql-init granting ezm both databases")
    if "mysqladmin ping -h 127.0.0.1" not in healthcheck_cmd(mysql):
        fail("docker-compose.yml: mysql healthcheck is not `mysqladmin ping -h 127.0.0.1` (TCP, after init)")
    if not str((services.get("redis") or {}).get("image", "")).startswith("redis:7"):
        fail("docker-compose.yml: redis image is not redis:7")
    ok("docker-compose.yml: mysql 8 (secrets as files, grants, TCP health check), redis 7")

    # nginx: the template, fed only with EZM_* values that compose passes, aliases for the three domains.
    nginx = services.get("nginx") or {}
    nenv = compose_env(nginx)
    where = "docker-compose.yml: nginx"
    if nginx.get("profiles"):
        fail(f"{where}: behind a profile (it is part of the default stack)")
    if not re.fullmatch(r"nginx:1\.\d+(\.\d+)?", str(nginx.get("image", ""))):
        fail(f"{where}: image {nginx.get('image')!r} is not a pinned nginx:1.x")
    if not any(t == "/etc/nginx/templates" and ro and s.endswith("nginx/templates") for s, t, ro in compose_mounts(nginx)):
        fail(f"{where}: does not mount ./nginx/templates read-only at /etc/nginx/templates")
    if nenv.get("NGINX_ENVSUBST_FILTER") != "^EZM_":
        fail(f"{where}: NGINX_ENVSUBST_FILTER is not ^EZM_")
    template_vars = set()
    for path in sorted((root / "nginx/templates").glob("*.template")):
        template_vars |= set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", path.read_text()))
    if not template_vars:
        fail(f"{where}: no variables found in nginx/templates/*.template")
    for var in sorted(template_vars):
        if not var.startswith("EZM_"):
            fail(f"{where}: the template uses ${{{var}}}, which NGINX_ENVSUBST_FILTER=^EZM_ does not substitute")
        elif not nenv.get(var):
            fail(f"{where}: the template uses ${{{var}}} but compose does not pass it")
    extra = sorted(k for k in nenv if k.startswith("EZM_") and k not in template_vars)
    if extra:
        fail(f"{where}: passes {', '.join(extra)}, which the template does not use")
    port = nenv.get("EZM_HTTP_PORT")
    if port != COMPOSE_DEFAULTS["EZM_HTTP_PORT"]:
        fail(f"{where}: EZM_HTTP_PORT defaults to {port!r}, expected {COMPOSE_DEFAULTS['EZM_HTTP_PORT']}")
    if [(str(p.get("target")), str(p.get("published"))) for p in nginx.get("ports") or []] != [(port, port)]:
        fail(f"{where}: must publish EZM_HTTP_PORT as the same port on the host")
    aliases = (((nginx.get("networks") or {}).get("default") or {}).get("aliases")) or []
    domains = [nenv.get(k) for k in ("EZM_CONSOLE_DOMAIN", "EZM_WS_DOMAIN", "EZM_MANAGER_DOMAIN")]
    if sorted(aliases) != sorted(domains) or domains != COMPOSE_DEFAULTS["domains"]:
        fail(f"{where}: network aliases {aliases} must be the three domains {domains} (defaults *.localhost)")
    if set((nginx.get("depends_on") or {})) != set(SERVICES):
        fail(f"{where}: must depend on ws-server, manager and console being healthy")
    hc = healthcheck_cmd(nginx)
    if "curl" not in hc or "EZM_HTTP_PORT" not in hc:
        fail(f"{where}: healthcheck does not curl through nginx's own port")
    ok(f"{where}: template variables {', '.join(sorted(template_vars))} all passed; port {port}; "
       f"aliases {', '.join(aliases)}")

    # The demo: app row and id by demo-setup (password never on the command line), agent through nginx.
    ds = services.get("demo-setup") or {}
    script = compose_script(ds)
    if ds.get("profiles") != ["demo"] or not str(ds.get("image", "")).startswith("mysql:8."):
        fail("docker-compose.yml: demo-setup must be a mysql:8.x one-shot in profile demo")
    if "--defaults-extra-file" not in script or re.search(r"(^|\s)(-p\S*|--password\S*)(\s|$)", script):
        fail("docker-compose.yml: demo-setup must pass the password in an option file, not on the command line")
    if f"{SECRETS_DIR}/demo_app_secret" not in script or f"{SECRETS_DIR}/demo_app_id" not in script:
        fail("docker-compose.yml: demo-setup must read demo_app_secret and write demo_app_id")
    if ((ds.get("depends_on") or {}).get("manager") or {}).get("condition") != "service_healthy":
        fail("docker-compose.yml: demo-setup must wait for the manager (it creates the tables)")
    demo = services.get("demo") or {}
    denv = compose_env(demo)
    if demo.get("profiles") != ["demo"] or (demo.get("build") or {}).get("dockerfile") != "deploy/demo/Dockerfile":
        fail("docker-compose.yml: demo must be built from deploy/demo/Dockerfile in profile demo")
    if denv.get("EZM_SERVER") != COMPOSE_DEFAULTS["EZM_SERVER"]:
        fail(f"docker-compose.yml: demo EZM_SERVER is {denv.get('EZM_SERVER')!r}, "
             f"expected {COMPOSE_DEFAULTS['EZM_SERVER']} (through nginx)")
    if set(demo.get("depends_on") or {}) != {"demo-setup", "nginx"}:
        fail("docker-compose.yml: demo must depend on demo-setup (completed) and nginx (healthy)")
    ok("docker-compose.yml: demo-setup (option file, app id) and demo (through nginx) in profile demo")

    check_compose_env_files(root)


def check_compose_env_files(root):
    """The committed .env holds only COMPOSE_PROFILES; .env.example documents every variable compose reads."""
    raw = (root / "docker-compose.yml").read_text()
    read = set(re.findall(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)", raw)) | {"COMPOSE_PROFILES"}
    example = root / ".env.example"
    lines = example.read_text().splitlines() if example.exists() else []
    documented = {line.split("=", 1)[0] for line in lines if re.match(r"[A-Za-z_][A-Za-z0-9_]*=", line)}
    if read - documented:
        fail(f".env.example: does not document {', '.join(sorted(read - documented))}")
    if documented - read:
        fail(f".env.example: documents {', '.join(sorted(documented - read))}, which docker-compose.yml does not read")
    for i, line in enumerate(lines):
        if re.match(r"[A-Z_]+=", line) and not (i and lines[i - 1].startswith("#")):
            fail(f".env.example: {line.split('=')[0]} has no comment line above it")
    # What is committed, not a developer's working copy (the index, or the file outside git).
    committed = None
    if (root / ".git").exists():
        import subprocess  # only here and in the Kubernetes checks
        r = subprocess.run(["git", "-C", str(root), "show", ":.env"], capture_output=True, text=True)
        committed = r.stdout if r.returncode == 0 else None
    if committed is None and (root / ".env").exists():
        committed = (root / ".env").read_text()
    keys = [line.split("=", 1) for line in (committed or "").splitlines() if line.strip() and not line.startswith("#")]
    if keys != [["COMPOSE_PROFILES", "demo"]]:
        fail(f".env: the committed file must hold only COMPOSE_PROFILES=demo (no secrets), not {[k[0] for k in keys]}")
    ok(f".env holds only COMPOSE_PROFILES=demo; .env.example documents all {len(read)} variables compose reads")


def dockerfile_stages(text):
    return re.findall(r"^FROM\s+\S+(?:\s+AS\s+(\S+))?", text, re.M | re.I)


def dockerignored(root, path):
    """Whether .dockerignore keeps `path` (relative) out of the build context (last matching rule wins)."""
    import fnmatch
    excluded = False
    for rule in (root / ".dockerignore").read_text().splitlines():
        rule = rule.strip()
        if not rule or rule.startswith("#"):
            continue
        negate, pat = rule.startswith("!"), rule.lstrip("!").rstrip("/")
        parts = Path(path).parts
        prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
        if any(fnmatch.fnmatch(p, pat) or fnmatch.fnmatch(p, "*/" + pat.removeprefix("**/")) for p in prefixes):
            excluded = not negate
    return excluded


def check_copy_sources(root, dockerfile, text):
    for m in re.finditer(r"^COPY\s+(?!.*--from=)(.*)$", text, re.M):
        args = [a for a in m.group(1).split() if not a.startswith("--")]
        for src in args[:-1]:
            if src == ".":
                continue
            if not (root / src).exists():
                fail(f"{dockerfile}: COPY source {src} does not exist")
            elif dockerignored(root, src):
                fail(f"{dockerfile}: COPY source {src} is excluded by .dockerignore")


def check_dockerfile(root):
    text = (root / "deploy/Dockerfile").read_text()
    stages = [s for s in dockerfile_stages(text) if s]
    where = "deploy/Dockerfile"
    for s in ["chef", "planner", "builder", "runtime"]:
        if s not in stages:
            fail(f"{where}: stage {s} missing")
    if dockerfile_stages(text)[-1:] != ["runtime"]:
        fail(f"{where}: the last stage (the default target) is not runtime")
    if not re.search(r"ARG CARGO_CHEF_VERSION=\d+\.\d+\.\d+", text) or \
            "cargo install cargo-chef --locked --version" not in text:
        fail(f"{where}: cargo-chef is not installed with --locked at a pinned version")
    cook = text.find("cargo chef cook --release")
    build = text.find("cargo build --release --locked -p ws-server -p manager -p console")
    copy_all = text.find("COPY . .", text.find("AS builder"))
    if "cargo chef prepare --recipe-path" not in text or cook < 0 or "--recipe-path" not in text[cook:cook + 200]:
        fail(f"{where}: the planner must `cargo chef prepare` and the builder `cargo chef cook --release --recipe-path`")
    if build < 0:
        fail(f"{where}: the cargo build of the three binaries is missing")
    elif not (0 <= cook < copy_all < build):
        fail(f"{where}: the builder must cook the dependencies before it copies the sources and builds")
    if not re.search(r"^FROM\s+rust:1-bookworm|RUST_IMAGE=rust:1-bookworm", text, re.M):
        fail(f"{where}: builder is not rust:1-bookworm")
    if not re.search(r"^FROM\s+debian:bookworm-slim|RUNTIME_IMAGE=debian:bookworm-slim", text, re.M):
        fail(f"{where}: runtime is not debian:bookworm-slim")
    runtime = text[text.rfind("\nFROM "):]
    for pattern, what in [
        (r"^USER\s+10001:10001\s*$", "USER 10001:10001 (non-root, the Kubernetes runAsUser)"),
        (r"^WORKDIR\s+/var/lib/easy-monitor\s*$", "WORKDIR /var/lib/easy-monitor"),
        (r"install -d -o 10001 -g 10001 [^\n]*/var/lib/easy-monitor", "/var/lib/easy-monitor owned by 10001"),
        (r"^STOPSIGNAL\s+SIGTERM\s*$", "STOPSIGNAL SIGTERM"),
        (r"^EXPOSE\s+9190 8543 8443\s*$", "EXPOSE 9190 8543 8443"),
        (r"ca-certificates curl tzdata", "ca-certificates, curl and tzdata"),
        (r"^CMD\s.*exit 64", "a CMD that prints the usage and exits 64"),
    ]:
        if not re.search(pattern, runtime, re.M):
            fail(f"{where}: runtime stage lacks {what}")
    copied = re.search(r"^COPY --from=builder ((?:.*\\\n)*.*)$", runtime, re.M)
    binaries = copied.group(1).replace("\\\n", " ").split() if copied else []
    if binaries[-1:] != ["/usr/local/bin/"] or {Path(b).name for b in binaries[:-1]} != set(SERVICES):
        fail(f"{where}: runtime does not copy ws-server, manager and console to /usr/local/bin/")
    if re.search(r"^(HEALTHCHECK|ENTRYPOINT)", text, re.M):
        fail(f"{where}: has a HEALTHCHECK or ENTRYPOINT (the command picks the binary; compose/k8s probe)")
    check_copy_sources(root, where, text)

    demo = (root / "deploy/demo/Dockerfile").read_text()
    where = "deploy/demo/Dockerfile"
    if not re.search(r"NODE_IMAGE=node:20-bookworm-slim|^FROM\s+node:20-bookworm-slim", demo, re.M):
        fail(f"{where}: not based on node:20-bookworm-slim")
    if not re.search(r"npm install [^\n]*--build-from-source[^\n]*--nodedir=/usr/local", demo):
        fail(f"{where}: npm install must build xprofiler from source against /usr/local's headers")
    if not re.search(r"^USER\s+(?!root|0\b)\S+", demo[demo.rfind("\nFROM "):], re.M):
        fail(f"{where}: the runtime stage runs as root")
    for f in ["crates/ws-server/tests/real-agent/package.json", "crates/ws-server/tests/real-agent/app.js",
              "crates/ws-server/tests/real-agent/agent.js", "deploy/demo/start.sh"]:
        if f not in demo:
            fail(f"{where}: does not copy {f}")
    check_copy_sources(root, where, demo)

    ignore = (root / ".dockerignore").read_text().split()
    for entry in ["target/", "node_modules/", ".git", ".env"]:
        if entry not in ignore:
            fail(f".dockerignore: {entry} missing")
    if not dockerignored(root, ".env") or dockerignored(root, "crates/protocol/fixtures/agent-frames.jsonl"):
        fail(".dockerignore: must exclude .env and keep crates/protocol/fixtures")
    ok(f"deploy/Dockerfile: stages {', '.join(stages)} (cargo-chef pinned, dependencies cached), runtime "
       "non-root 10001 with the three binaries, usage CMD; deploy/demo/Dockerfile; .dockerignore")
    return stages


# ---- Kubernetes (deploy/k8s: sources, and the `kubectl kustomize` output that validate.sh renders) ---------------

K8S_DIR = "deploy/k8s"
K8S_NAMESPACE = "easy-monitor"
K8S_IMAGE = "easy-monitor/easy-monitor"
# Secret values reach the services as files in one read-only mount, read through <NAME>_FILE.
K8S_SECRET_MOUNT = "/run/secrets/easy-monitor"
# Values in each service's Secret: (required, optional). Nothing a service does not need.
K8S_SECRETS = {
    "ws-server": ({"EZM_SECRET"}, set()),
    "manager": ({"EZM_SECRET", "DB_PASSWORD"}, {"REDIS_PASSWORD"}),
    "console": ({"EZM_SECRET", "DB_PASSWORD"}, {"REDIS_PASSWORD"}),
}
# The only writable paths (the root filesystem is read-only).
K8S_WRITABLE = {"ws-server": {"/tmp"}, "manager": {"/tmp"}, "console": {"/tmp", "/var/lib/easy-monitor"}}
# Scaled by a HorizontalPodAutoscaler and guarded by a PodDisruptionBudget; the console keeps one replica.
K8S_SCALED = {"ws-server", "manager"}
NGINX = "nginx.ingress.kubernetes.io/"
AGENT_HEARTBEAT_SECS = 60


def file_forms(allowed):
    """`<NAME>_FILE` for every name the settings loader resolves (the reference names and EZM__*)."""
    return {f"{n}_FILE" for n in allowed if n not in EXTRA_ENV}


def env_file_keys(path):
    """Keys of a kustomize env file (`NAME=value` lines; `#` lines are comments)."""
    lines = (line.strip() for line in path.read_text().splitlines())
    return [line.split("=", 1)[0] for line in lines if line and not line.startswith("#")]


def nginx_size_bytes(text):
    m = re.fullmatch(r"(\d+)([kmg]?)", str(text).strip().lower())
    if not m:
        return None
    return int(m.group(1)) * {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}[m.group(2)]


def check_k8s_sources(root, allowed):
    """The files an operator edits: the kustomization, its env files, the secret files' names and git-ignoring.
    Returns the image the Deployments must run (from `images:`)."""
    k8s = root / K8S_DIR
    kust = yaml.safe_load((k8s / "kustomization.yaml").read_text())
    for res in kust.get("resources") or []:
        if not (k8s / res).exists():
            fail(f"kustomization.yaml: resource {res} does not exist")
    if kust.get("namespace") != K8S_NAMESPACE:
        fail(f"kustomization.yaml: namespace is {kust.get('namespace')!r}, expected {K8S_NAMESPACE}")
    image = next((i for i in kust.get("images") or [] if i.get("name") == K8S_IMAGE), None)
    if not image or not image.get("newTag") or image.get("newTag") == "latest":
        fail(f"kustomization.yaml: no images: entry for {K8S_IMAGE} with a newTag (not latest)")
        image = {"name": K8S_IMAGE, "newTag": "?"}
    expected_image = f"{image.get('newName') or K8S_IMAGE}:{image['newTag']}"
    for gen in kust.get("configMapGenerator") or []:
        for env in gen.get("envs") or []:
            if not (k8s / env).exists():
                fail(f"kustomization.yaml: configMapGenerator {gen['name']}: {env} does not exist")
                continue
            check_env_names(f"{K8S_DIR}/{env} (ConfigMap {gen['name']})", env_file_keys(k8s / env), allowed)
    secret_files, secret_keys = set(), set()
    for gen in kust.get("secretGenerator") or []:
        if gen.get("envs") or gen.get("literals"):
            fail(f"kustomization.yaml: secretGenerator {gen['name']} must read files from secrets/ only")
        for f in gen.get("files") or []:
            key, _, path = f.partition("=") if "=" in f else (Path(f).name, "", f)
            if Path(path).parent != Path("secrets"):
                fail(f"kustomization.yaml: secretGenerator {gen['name']}: {path} is not in secrets/")
            secret_files.add(path)
            secret_keys.add(key)
    check_env_names("kustomization.yaml: secretGenerator keys", sorted(secret_keys), allowed)
    # No secret value may be committed: the files the generator reads are git-ignored, nothing else is tracked there.
    if (root / ".git").exists():
        import subprocess  # only here: the rest of this script runs no commands
        for path in sorted(secret_files):
            ignored = subprocess.run(["git", "-C", str(root), "check-ignore", "-q", "--no-index", f"{K8S_DIR}/{path}"])
            if ignored.returncode != 0:
                fail(f"{K8S_DIR}/{path} is not git-ignored (a secret value could be committed)")
        tracked = subprocess.run(["git", "-C", str(root), "ls-files", f"{K8S_DIR}/secrets"],
                                 capture_output=True, text=True).stdout.split()
        extra = sorted(set(tracked) - {f"{K8S_DIR}/secrets/.gitignore", f"{K8S_DIR}/secrets/README.md"})
        if extra:
            fail(f"{K8S_DIR}/secrets: files tracked by git besides README.md and .gitignore: {', '.join(extra)}")
    ok(f"{K8S_DIR}: kustomization resources, image {expected_image}, env files, secret files git-ignored")

    n = 0
    for path in sorted(k8s.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for i, doc in enumerate(d for d in yaml.safe_load_all(path.read_text()) if d is not None):
            n += 1
            if not (doc.get("apiVersion") and doc.get("kind") and (doc.get("metadata") or {}).get("name")):
                fail(f"{path.name}#{i}: apiVersion, kind or metadata.name missing")
    ok(f"{K8S_DIR}: {n} YAML documents parsed; apiVersion, kind, metadata.name present")
    return expected_image


def port_of(container, ref):
    """The containerPort a probe or Service refers to, by name or number."""
    for p in container.get("ports") or []:
        if ref in (p.get("name"), p.get("containerPort")):
            return p.get("containerPort")
    return None


def check_k8s_deployment(svc, port, dep, ctx):
    where = f"rendered Deployment {dep['metadata']['name']}"
    spec = dep["spec"]
    pod = spec["template"]["spec"]
    labels = spec["template"]["metadata"].get("labels") or {}
    if any(labels.get(k) != v for k, v in spec["selector"]["matchLabels"].items()):
        fail(f"{where}: selector does not match the pod template labels")
    containers = pod.get("containers") or []
    if len(containers) != 1:
        fail(f"{where}: {len(containers)} containers, expected 1")
        return
    c = containers[0]
    if c.get("image") != ctx["image"]:
        fail(f"{where}: image {c.get('image')!r}, expected the single image {ctx['image']}")
    if c.get("command") != [f"/usr/local/bin/{svc}"] or c.get("args"):
        fail(f"{where}: command is {c.get('command')!r}, expected ['/usr/local/bin/{svc}'] and no args")
    if port_of(c, port) != port:
        fail(f"{where}: containerPort {port} missing")
    for probe, path in (("startupProbe", "/healthz"), ("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        get = (c.get(probe) or {}).get("httpGet") or {}
        if get.get("path") != path or port_of(c, get.get("port")) != port:
            fail(f"{where}: {probe} is not httpGet {path} on port {port} ({get or 'none'})")
    res = c.get("resources") or {}
    for kind in ("requests", "limits"):
        if not all((res.get(kind) or {}).get(r) for r in ("cpu", "memory")):
            fail(f"{where}: resources.{kind} cpu and memory not both set")

    psc, csc = pod.get("securityContext") or {}, c.get("securityContext") or {}
    if not (csc.get("runAsNonRoot", psc.get("runAsNonRoot")) is True):
        fail(f"{where}: runAsNonRoot is not true")
    if csc.get("runAsUser", psc.get("runAsUser")) != 10001:
        fail(f"{where}: runAsUser is not 10001 (the image's user)")
    if csc.get("readOnlyRootFilesystem") is not True or csc.get("allowPrivilegeEscalation") is not False:
        fail(f"{where}: needs readOnlyRootFilesystem: true and allowPrivilegeEscalation: false")
    if "ALL" not in ((csc.get("capabilities") or {}).get("drop") or []):
        fail(f"{where}: capabilities do not drop ALL")
    if pod.get("enableServiceLinks") is not False:
        fail(f"{where}: enableServiceLinks is not false (Service-link variables like MANAGER_PORT=tcp://… would "
             "reach the services' reference names)")
    if pod.get("automountServiceAccountToken") is not False:
        fail(f"{where}: automountServiceAccountToken is not false (the services do not call the Kubernetes API)")
    if not isinstance(pod.get("terminationGracePeriodSeconds"), int):
        fail(f"{where}: terminationGracePeriodSeconds not set")

    volumes = {v["name"]: v for v in pod.get("volumes") or []}
    mounts = c.get("volumeMounts") or []
    writable = {m["mountPath"] for m in mounts
                if not m.get("readOnly") and not {"secret", "configMap"} & set(volumes.get(m["name"], {}))}
    if writable != K8S_WRITABLE[svc]:
        fail(f"{where}: writable mounts {sorted(writable)}, expected {sorted(K8S_WRITABLE[svc])}")
    if svc == "console":
        data = next((volumes.get(m["name"]) for m in mounts if m["mountPath"] == "/var/lib/easy-monitor"), {}) or {}
        claim = (data.get("persistentVolumeClaim") or {}).get("claimName")
        if claim not in ctx["pvcs"]:
            fail(f"{where}: /var/lib/easy-monitor is not a PersistentVolumeClaim defined here")
        if spec.get("replicas") != 1 or (spec.get("strategy") or {}).get("type") != "Recreate":
            fail(f"{where}: must run 1 replica with strategy Recreate (uploads on a ReadWriteOnce volume)")
    if svc in K8S_SCALED and "replicas" in spec:
        fail(f"{where}: sets replicas although a HorizontalPodAutoscaler owns it")

    # Environment: every name, from envFrom ConfigMaps and env, is one the services read.
    names = [e["name"] for e in c.get("env") or []]
    for ref in c.get("envFrom") or []:
        if "configMapRef" not in ref:
            fail(f"{where}: envFrom {ref}: only ConfigMaps (secret values come as files)")
            continue
        cm = ctx["configmaps"].get(ref["configMapRef"]["name"])
        if cm is None:
            fail(f"{where}: envFrom ConfigMap {ref['configMapRef']['name']} not in the rendered output")
            continue
        names += list(cm.get("data") or {})
    check_env_names(f"{where}: env and envFrom", names, ctx["allowed"] | file_forms(ctx["allowed"]), K8S_HELPER_ENV)
    if any("valueFrom" in e and "secretKeyRef" in e["valueFrom"] for e in c.get("env") or []):
        fail(f"{where}: a secret value in the environment (mount it and use <NAME>_FILE)")

    # Secrets: one Secret with exactly this service's values, mounted read-only, each read through <NAME>_FILE.
    env = {e["name"]: e.get("value") for e in c.get("env") or []}
    mount = next((m for m in mounts if m["mountPath"] == K8S_SECRET_MOUNT), None)
    secret_name = ((volumes.get(mount["name"]) or {}).get("secret") or {}).get("secretName") if mount else None
    secret = ctx["secrets"].get(secret_name)
    if not mount or not mount.get("readOnly") or secret is None:
        fail(f"{where}: no Secret of the rendered output mounted read-only at {K8S_SECRET_MOUNT}")
    else:
        ctx["used_secrets"].add(secret_name)
        keys = set(secret.get("data") or {}) | set(secret.get("stringData") or {})
        required, optional = K8S_SECRETS[svc]
        if not required <= keys <= required | optional:
            fail(f"{where}: Secret {secret_name} holds {sorted(keys)}; needs {sorted(required)}"
                 + (f", may hold {sorted(optional)}" if optional else "") + ", nothing else")
        for key in sorted(keys):
            if env.get(f"{key}_FILE") != f"{K8S_SECRET_MOUNT}/{key}":
                fail(f"{where}: {key}_FILE is not {K8S_SECRET_MOUNT}/{key}")

    if svc == "ws-server":
        env_list = c.get("env") or []
        pod_ip = next((i for i, e in enumerate(env_list) if e["name"] == "POD_IP"), None)
        adv = next((i for i, e in enumerate(env_list) if e["name"] == "EZM__WS_SERVER__ADVERTISE_ADDRESS"), None)
        if pod_ip is None or env_list[pod_ip].get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") != "status.podIP":
            fail(f"{where}: POD_IP is not taken from status.podIP")
        if adv is None or env_list[adv].get("value") != "$(POD_IP):9190" or (pod_ip is not None and adv < pod_ip):
            fail(f"{where}: EZM__WS_SERVER__ADVERTISE_ADDRESS is not $(POD_IP):9190 after POD_IP")
    ok(f"{where}: image {ctx['image']}, command /usr/local/bin/{svc}, startup+liveness /healthz and readiness "
       f"/readyz on {port}, resources, non-root read-only, secrets as files, env names")


def selects(selector, dep):
    labels = dep["spec"]["template"]["metadata"].get("labels") or {}
    match = (selector or {}).get("matchLabels", selector) or {}
    return bool(match) and all(labels.get(k) == v for k, v in match.items())


def check_k8s_rendered(rendered, allowed, image):
    docs = [d for d in yaml.safe_load_all(rendered.read_text()) if d is not None]
    by_kind = {}
    for d in docs:
        by_kind.setdefault(d.get("kind"), {})[d["metadata"]["name"]] = d
        ns = d["metadata"].get("namespace")
        if d["kind"] != "Namespace" and ns != K8S_NAMESPACE:
            fail(f"rendered {d['kind']} {d['metadata']['name']}: namespace {ns!r}, expected {K8S_NAMESPACE}")
        if (d["metadata"].get("labels") or {}).get("app.kubernetes.io/part-of") != "easy-monitor":
            fail(f"rendered {d['kind']} {d['metadata']['name']}: label app.kubernetes.io/part-of missing")
        if (d["metadata"].get("annotations") or {}).get("config.kubernetes.io/local-config"):
            fail(f"rendered {d['kind']} {d['metadata']['name']}: a local-config object reached the output")
    if K8S_NAMESPACE not in by_kind.get("Namespace", {}):
        fail(f"rendered: Namespace {K8S_NAMESPACE} missing")
    configmaps, secrets = by_kind.get("ConfigMap", {}), by_kind.get("Secret", {})
    for name, cm in configmaps.items():
        check_env_names(f"rendered ConfigMap {name}", list(cm.get("data") or {}), allowed)
    ctx = {"image": image, "allowed": allowed, "configmaps": configmaps, "secrets": secrets,
           "pvcs": by_kind.get("PersistentVolumeClaim", {}), "used_secrets": set()}
    deployments = by_kind.get("Deployment", {})
    for svc, port in SERVICES.items():
        dep = deployments.get(K8S_NAMES[svc])
        if dep is None:
            fail(f"rendered: Deployment {K8S_NAMES[svc]} missing")
            continue
        check_k8s_deployment(svc, port, dep, ctx)
    for name in sorted(set(secrets) - ctx["used_secrets"]):
        fail(f"rendered Secret {name}: mounted by no Deployment")

    # Scaling: HPA (autoscaling/v2, CPU, min 2) and PDB for the stateless services; neither for the console.
    hpas, pdbs = by_kind.get("HorizontalPodAutoscaler", {}), by_kind.get("PodDisruptionBudget", {})
    for svc in SERVICES:
        dep = deployments.get(K8S_NAMES[svc])
        if dep is None:
            continue
        hpa = [h for h in hpas.values() if (h["spec"].get("scaleTargetRef") or {}).get("name") == K8S_NAMES[svc]]
        pdb = [p for p in pdbs.values() if selects(p["spec"].get("selector"), dep)]
        if svc not in K8S_SCALED:
            if hpa or pdb:
                fail(f"rendered: {svc} has a HorizontalPodAutoscaler or PodDisruptionBudget (it stays at 1 replica)")
            continue
        h = hpa[0] if len(hpa) == 1 else None
        cpu = h and any((m.get("resource") or {}).get("name") == "cpu" for m in h["spec"].get("metrics") or [])
        if not h or h["apiVersion"] != "autoscaling/v2" or (h["spec"].get("minReplicas") or 1) < 2 or not cpu:
            fail(f"rendered: {svc} needs one autoscaling/v2 HorizontalPodAutoscaler on CPU with minReplicas >= 2")
        if len(pdb) != 1:
            fail(f"rendered: {svc} needs one PodDisruptionBudget selecting its pods ({len(pdb)} found)")
        if h and cpu and len(pdb) == 1:
            ok(f"rendered: {svc} HorizontalPodAutoscaler (CPU, min {h['spec']['minReplicas']}) and PodDisruptionBudget")

    services = by_kind.get("Service", {})
    for name, svc in services.items():
        targets = [d for d in deployments.values() if selects(svc["spec"].get("selector"), d)]
        if not targets:
            fail(f"rendered Service {name} selects no Deployment")
            continue
        c = targets[0]["spec"]["template"]["spec"]["containers"][0]
        for p in svc["spec"].get("ports") or []:
            if port_of(c, p.get("targetPort", p.get("port"))) is None:
                fail(f"rendered Service {name}: targetPort {p.get('targetPort')!r} is not a port of {targets[0]['metadata']['name']}")
    if services.get("ezm-manager", {}).get("spec", {}).get("type", "ClusterIP") != "ClusterIP":
        fail("rendered Service ezm-manager must stay ClusterIP (internal API)")
    ok(f"rendered: {len(services)} Services select their Deployments; the manager's is ClusterIP")

    # Ingress: WebSocket- and upload-friendly ingress-nginx settings, the manager never exposed, hosts consistent.
    ingresses = by_kind.get("Ingress", {})
    console_url = (next((cm for n, cm in configmaps.items() if n.startswith("ezm-console-config")), {})
                   .get("data") or {}).get("CONSOLE_BASE_URL", "")
    max_upload = int((next((cm for n, cm in configmaps.items() if n.startswith("ezm-console-config")), {})
                      .get("data") or {}).get("EZM__CONSOLE__MAX_UPLOAD_BYTES", 4 << 30))
    for name, ing in ingresses.items():
        notes = ing["metadata"].get("annotations") or {}
        backends = {p["backend"]["service"]["name"] for r in ing["spec"].get("rules") or []
                    for p in (r.get("http") or {}).get("paths") or []}
        for b in backends - set(services):
            fail(f"rendered Ingress {name}: backend {b} is not a Service")
        if "ezm-manager" in backends:
            fail(f"rendered Ingress {name}: exposes the manager (internal API)")
        paths = {p["path"] for r in ing["spec"].get("rules") or [] for p in (r.get("http") or {}).get("paths") or []}
        if paths == {"/xapi"}:
            if not (notes.get(NGINX + "allowlist-source-range") or notes.get(NGINX + "whitelist-source-range")):
                fail(f"rendered Ingress {name}: /xapi is not restricted by source range")
            else:
                ok(f"rendered Ingress {name}: ws-server's /xapi refused from outside (source range)")
            continue
        for t in ("proxy-read-timeout", "proxy-send-timeout"):
            secs = str(notes.get(NGINX + t, 60))
            if not secs.isdigit() or int(secs) <= AGENT_HEARTBEAT_SECS:
                fail(f"rendered Ingress {name}: {t} must exceed the agents' {AGENT_HEARTBEAT_SECS} s heartbeat")
        if "ezm-console" in backends:
            size = nginx_size_bytes(notes.get(NGINX + "proxy-body-size", "1m"))
            if size is None or size < max_upload:
                fail(f"rendered Ingress {name}: proxy-body-size below the console's {max_upload} bytes uploads")
            if notes.get(NGINX + "proxy-request-buffering") != "off":
                fail(f"rendered Ingress {name}: proxy-request-buffering is not off (uploads would be buffered)")
            hosts = {r.get("host") for r in ing["spec"].get("rules") or []}
            url_host = console_url.split("/")[2] if console_url.count("/") >= 2 else ""
            if hosts != {url_host}:
                fail(f"rendered Ingress {name}: hosts {sorted(hosts)} differ from CONSOLE_BASE_URL {console_url}")
        ok(f"rendered Ingress {name}: backends {sorted(backends)}, timeouts above {AGENT_HEARTBEAT_SECS} s")


def check_k8s(root, allowed, rendered):
    image = check_k8s_sources(root, allowed)
    if rendered is None:
        fail("deploy/k8s: no rendered kustomize output given (--k8s-rendered): Deployments not checked")
        return
    check_k8s_rendered(rendered, allowed, image)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", type=Path, required=True)
    ap.add_argument("--compose-json", type=Path, help="output of `docker compose config --format json`")
    ap.add_argument("--k8s-rendered", type=Path, help="output of `kubectl kustomize deploy/k8s` (validate.sh renders it)")
    args = ap.parse_args()
    root = args.root

    legacy, allowed = known_env(root)
    print("validate: environment names the services read (crates/common):")
    print("  legacy:     " + " ".join(sorted(legacy)))
    print("  structured: " + " ".join(sorted(n for n in allowed if n.startswith("EZM__"))))
    print("  other:      " + " ".join(sorted(EXTRA_ENV)))

    stages = check_dockerfile(root)
    if args.compose_json:
        compose = json.loads(args.compose_json.read_text())
        source = "resolved by docker compose config"
    else:
        compose = yaml.safe_load((root / "docker-compose.yml").read_text())
        source = "raw YAML"
    check_compose(root, compose, allowed, stages)
    ok(f"docker-compose.yml checked ({source})")
    check_k8s(root, allowed, args.k8s_rendered)

    for c in checked:
        print(f"validate: ok: {c}")
    for p in problems:
        print(f"validate: FAIL: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
