"""Offline checks of the deployment files (called by deploy/validate.sh, which provides PyYAML).

Checks docker-compose.yml (with .env and .env.example), deploy/Dockerfile, deploy/demo/Dockerfile, .dockerignore
and deploy/k8s (its sources and the rendered `kubectl kustomize` output, as committed and with the console-s3
component switched on) for what the services need:
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


# Put before every message while a variant of the rendered Kubernetes output is checked (e.g. "[console-s3] ").
context = ""


def fail(msg):
    problems.append(context + msg)


def ok(msg):
    checked.append(context + msg)


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
# The secrets: one volume per audience, mounted at the same directory by every service that may read it. keygen
# writes the files once and is the only service mounting all of them; everything else mounts only its own, read-only
# (demo-setup also writes the demo app's id). target -> (files, writers, readers).
SECRETS_DIR = "/run/ezm"
SECRET_VOLUMES = {
    "/run/ezm/shared": ({"ezm_secret"}, {"keygen"}, {"manager", "ws-server", "console"}),
    "/run/ezm/db": ({"db_password"}, {"keygen"}, {"manager", "console", "mysql", "demo-setup"}),
    "/run/ezm/db-root": ({"db_root_password"}, {"keygen"}, {"mysql"}),
    "/run/ezm/demo": ({"demo_app_secret", "demo_app_id"}, {"keygen", "demo-setup"}, {"demo"}),
    "/run/ezm/console": ({"console_admin_password"}, {"keygen"}, {"console"}),
}
# What keygen generates (demo_app_id comes from demo-setup).
KEYGEN_FILES = {"/run/ezm/shared/ezm_secret", "/run/ezm/db/db_password", "/run/ezm/db-root/db_root_password",
                "/run/ezm/demo/demo_app_secret", "/run/ezm/console/console_admin_password"}
SECRET_ENV_NAME = re.compile(r"(SECRET|PASSWORD|PASSWD|TOKEN|API_KEY)(_INIT)?$")
# Seconds each service needs between SIGTERM and its exit: ws-server closes sockets (5 s), finishes forwards (~20 s
# of retries) and stops its HTTP server (10 s); the manager commits batched rows and stops (30 s); the console
# finishes requests (actix-web's 30 s). compose's stop_grace_period must cover it, Kubernetes' grace period too
# (after the 5 s preStop pause).
DRAIN_SECS = {"ws-server": 45, "manager": 30, "console": 30}
K8S_PRESTOP_SECS = 5
# X-Profiler/all-in-one's compose .env: the names honoured here (fallbacks of ours) and the ones not read.
ALLINONE_HONOURED = {"EZMALL_CONSOLE_PORT": "EZM_CONSOLE_PORT", "EZMALL_WS_PORT": "EZM_WS_PORT",
                     "DB_PASSWORD": "DB_PASSWORD"}
ALLINONE_IGNORED = {"EZMALL_MANAGER_PORT", "IMAGE_TAG", "DB_DATA_LOCATION"}
# An all-in-one .env as a user would bring it (validate.sh resolves the compose file with it: --print-allinone-env),
# and our own port names set on top of it (they must win).
ALLINONE_ENV = {"IMAGE_TAG": "v9.9.9", "EZMALL_CONSOLE_PORT": "18443", "EZMALL_MANAGER_PORT": "18543",
                "EZMALL_WS_PORT": "19190", "DB_DATA_LOCATION": "/srv/allinone-mysql-data", "DB_PASSWORD": "aio-Pass-1"}
OUR_PORTS_ENV = {"EZM_CONSOLE_PORT": "28443", "EZM_WS_PORT": "29190"}
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


def duration_secs(text):
    """Seconds of a compose duration as `docker compose config` prints it (e.g. 45s, 1m30s)."""
    parts = re.findall(r"(\d+(?:\.\d+)?)(h|ms|m|s|us|ns)", str(text or ""))
    if not parts or "".join(n + u for n, u in parts) != str(text):
        return None
    unit = {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}
    return sum(float(n) * unit[u] for n, u in parts)


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

    # The secrets volumes: keygen mounts each one read-write at its directory; every other service mounts exactly
    # the ones it needs (SECRET_VOLUMES), read-only unless it writes there, and nothing else under /run/ezm.
    kg = services.get("keygen") or {}
    declared = compose.get("volumes") or {}
    volume_of = {}
    for source, target, ro in compose_mounts(kg):
        if target in SECRET_VOLUMES and not ro and source in declared:
            volume_of[target] = source
    for target in SECRET_VOLUMES:
        if target not in volume_of:
            fail(f"docker-compose.yml: keygen does not mount a named volume read-write at {target}")
    if len(set(volume_of.values())) != len(volume_of):
        fail(f"docker-compose.yml: the secrets directories share a volume ({volume_of}): one volume each")
    for name, svc in services.items():
        where = f"docker-compose.yml: {name}"
        mounted = {}
        for source, target, ro in compose_mounts(svc):
            secret_source = source in volume_of.values()
            if not secret_source and not (target == SECRETS_DIR or str(target).startswith(SECRETS_DIR + "/")):
                continue
            if not secret_source or volume_of.get(target) != source:
                fail(f"{where}: mounts {source} at {target}: {SECRETS_DIR}/* must be the secrets volumes, each at "
                     "its own directory")
                continue
            mounted[target] = ro
        for target, (_, writers, readers) in SECRET_VOLUMES.items():
            if name in writers:
                if mounted.get(target) is not False:
                    fail(f"{where}: must mount {volume_of.get(target)} read-write at {target} (it writes there)")
            elif name in readers:
                if mounted.get(target) is not True:
                    fail(f"{where}: must mount {volume_of.get(target)} read-only at {target}")
            elif target in mounted:
                fail(f"{where}: mounts {volume_of.get(target)} ({target}), which it must not read")
    audience = ", ".join(f"{t} {sorted(r)}" for t, (_, _, r) in SECRET_VOLUMES.items())
    ok(f"docker-compose.yml: one secrets volume per audience, read-only for: {audience}")

    # No literal secret anywhere: compose resolved this with no variable set, so a secret-named value is literal.
    # Every *_FILE names a secret file in a secrets volume that the same service mounts.
    for name, svc in services.items():
        mounts = {t for _, t, _ in compose_mounts(svc)}
        for key, value in compose_env(svc).items():
            if key.endswith("_FILE"):
                directory, _, filename = value.rpartition("/")
                if filename not in SECRET_VOLUMES.get(directory, ((), ()))[0]:
                    fail(f"docker-compose.yml: {name}: {key}={value} is not a file of a secrets volume")
                elif directory not in mounts:
                    fail(f"docker-compose.yml: {name}: {key}={value}, but {name} does not mount {directory}")
            elif SECRET_ENV_NAME.search(key) and value:
                fail(f"docker-compose.yml: {name}: {key} has a literal value (secrets come from {SECRETS_DIR})")
            if PUBLIC_SECRET in value:
                fail(f"docker-compose.yml: {name}: {key} uses the public default secret")
    ok(f"docker-compose.yml: no literal secret; every *_FILE names a secret file in a volume its service mounts")

    # keygen: the secrets, once, as root, into their volumes; it also builds the one image.
    script = compose_script(kg)
    if kg.get("user") != "0:0" or kg.get("entrypoint") != ["/bin/sh", "-c"]:
        fail("docker-compose.yml: keygen must run as user 0:0 with entrypoint [/bin/sh, -c]")
    for f in sorted(KEYGEN_FILES):
        if f"put {f} " not in script:
            fail(f"docker-compose.yml: keygen does not write {f}")
    if "/dev/urandom" not in script or '[ -s "$f" ]' not in script:
        fail("docker-compose.yml: keygen must write random values only when the file is absent")

    # Images of our own are built here and never pulled (a registry image of the same name would run, keygen
    # included): the services that build have pull_policy build, the others that use such an image never.
    built = {s.get("image") for s in services.values() if s.get("build")}
    for name, svc in services.items():
        if svc.get("build"):
            want = "build"
        elif svc.get("image") in built or str(svc.get("image", "")).startswith(COMPOSE_IMAGE + ":"):
            want = "never"
        else:
            continue
        if svc.get("pull_policy") != want:
            fail(f"docker-compose.yml: {name}: pull_policy is {svc.get('pull_policy')!r}, expected {want} "
                 f"(image {svc.get('image')} must never be pulled)")
    ok("docker-compose.yml: images built here are never pulled (pull_policy build on the builders, never on the rest)")

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
        grace = duration_secs(svc.get("stop_grace_period"))
        if grace is None or grace < DRAIN_SECS[name]:
            fail(f"{where}: stop_grace_period is {svc.get('stop_grace_period')!r}, needs at least {DRAIN_SECS[name]}s "
                 "to drain")
        published = {str(p.get("target")) for p in svc.get("ports") or [] if isinstance(p, dict)}
        if name == "manager" and svc.get("ports"):
            fail(f"{where}: publishes ports (internal API)")
        elif name != "manager" and published != {str(port)}:
            fail(f"{where}: publishes {sorted(published)}, expected container port {port}")
        env = compose_env(svc)
        expected = {"MANAGER_BASE_URL": "http://manager:8543", "EZM_SECRET_FILE": "/run/ezm/shared/ezm_secret"}
        if name in {"manager", "console"}:  # the MySQL users
            expected |= {"DB_SERVER_HOST": "mysql", "DB_USERNAME": "ezm", "DB_PASSWORD_FILE": "/run/ezm/db/db_password"}
        elif any(k.startswith(("DB_", "CONSOLE_MYSQL_", "LOGS_MYSQL_")) for k in env):
            fail(f"{where}: has MySQL settings, although it uses no database (and cannot read the db password)")
        if name == "console":
            expected["CONSOLE_BASE_URL"] = COMPOSE_DEFAULTS["CONSOLE_BASE_URL"]
        for key, value in expected.items():
            if env.get(key) != value:
                fail(f"{where}: {key} is {env.get(key)!r}, expected {value!r}")
        if not ({"REDIS_SERVER", "REDIS_SERVER_HOST"} & set(env)):
            fail(f"{where}: REDIS_SERVER (or REDIS_SERVER_HOST) not set")
        check_env_names(where, list(env), allowed)
        ok(f"{where}: image {image}, command [{name}], /healthz probe, secrets as files, stop_grace_period "
           f"{svc.get('stop_grace_period')}, " + ("no published port" if name == "manager" else f"port {port} published"))
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
    # nginx keeps the upstream addresses it resolved at start: compose must restart it when one is recreated.
    no_restart = sorted(d for d, spec in (nginx.get("depends_on") or {}).items() if (spec or {}).get("restart") is not True)
    if no_restart:
        fail(f"{where}: depends_on {', '.join(no_restart)} without restart: true (nginx would keep a recreated "
             "container's old address and answer 502)")
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
    if "/run/ezm/demo/demo_app_secret" not in script or "/run/ezm/demo/demo_app_id" not in script \
            or "/run/ezm/db/db_password" not in script:
        fail("docker-compose.yml: demo-setup must read db/db_password and demo/demo_app_secret, write demo/demo_app_id")
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
    start = (root / "deploy/demo/start.sh").read_text()
    if denv.get("EZM_SECRETS_DIR") != "/run/ezm/demo" or "${EZM_SECRETS_DIR:-/run/ezm/demo}" not in start \
            or not all(f'"$secrets/{f}"' in start for f in ("demo_app_id", "demo_app_secret")):
        fail("docker-compose.yml: demo must read demo_app_id and demo_app_secret from EZM_SECRETS_DIR=/run/ezm/demo "
             "(deploy/demo/start.sh)")
    ok("docker-compose.yml: demo-setup (option file, app id) and demo (through nginx) in profile demo")

    check_compose_env_files(root)


def published_ports(svc):
    return sorted(str(p.get("published")) for p in svc.get("ports") or [] if isinstance(p, dict))


def check_compose_allinone(allinone, both):
    """The compose file resolved with an all-in-one .env (and with our port names on top): the honoured names take
    effect, the others change nothing, DB_PASSWORD reaches keygen only."""
    where = "docker-compose.yml with all-in-one's .env"
    services = allinone.get("services") or {}
    want = {"console": [ALLINONE_ENV["EZMALL_CONSOLE_PORT"]], "ws-server": [ALLINONE_ENV["EZMALL_WS_PORT"]],
            "manager": []}
    for name, ports in want.items():
        if published_ports(services.get(name) or {}) != ports:
            fail(f"{where}: {name} publishes {published_ports(services.get(name) or {})}, expected {ports}")
    text = json.dumps(allinone)
    for name in ("IMAGE_TAG", "EZMALL_MANAGER_PORT", "DB_DATA_LOCATION"):
        if ALLINONE_ENV[name] in text:
            fail(f"{where}: {name} reaches the configuration (it is documented as not read)")
    data = [(s, ro) for s, t, ro in compose_mounts(services.get("mysql") or {}) if t == "/var/lib/mysql"]
    if data != [("mysql-data", False)]:
        fail(f"{where}: MySQL's data is {data}, expected the named volume mysql-data")
    receivers = sorted(n for n, s in services.items() if ALLINONE_ENV["DB_PASSWORD"] in json.dumps(s))
    if receivers != ["keygen"] or compose_env(services["keygen"]).get("DB_PASSWORD_INIT") != ALLINONE_ENV["DB_PASSWORD"]:
        fail(f"{where}: DB_PASSWORD must reach keygen's DB_PASSWORD_INIT only (reaches {receivers})")
    services = both.get("services") or {}
    for name, var in (("console", "EZM_CONSOLE_PORT"), ("ws-server", "EZM_WS_PORT")):
        if published_ports(services.get(name) or {}) != [OUR_PORTS_ENV[var]]:
            fail(f"{where}: with {var} set too, {name} publishes {published_ports(services.get(name) or {})}, "
                 f"expected {OUR_PORTS_ENV[var]} ({var} wins)")
    ok(f"{where}: EZMALL_CONSOLE_PORT and EZMALL_WS_PORT are fallbacks of ours; IMAGE_TAG, EZMALL_MANAGER_PORT and "
       "DB_DATA_LOCATION change nothing; DB_PASSWORD reaches keygen only")


# What CONSOLE_BASE_URL does, said the same way wherever it is set (normalised: comment markers and line breaks
# removed); and claims that are not true yet.
CONSOLE_BASE_URL_DOCS = [".env.example", "docker-compose.yml", "deploy/k8s/config/console.env", "deploy/k8s/README.md"]
CONSOLE_BASE_URL_SAYS = ["the console hands it to agents as their upload address when a file is transferred"]
CONSOLE_BASE_URL_STALE = ["once the console's transfer feature exists", "today the console only receives uploads"]


def check_console_base_url_docs(root):
    for rel in CONSOLE_BASE_URL_DOCS:
        text = re.sub(r"\s*\n\s*(#\s*)?", " ", (root / rel).read_text()).replace("`", "").lower()
        for phrase in CONSOLE_BASE_URL_SAYS:
            if phrase.replace("`", "").lower() not in text:
                fail(f"{rel}: does not say about CONSOLE_BASE_URL: {phrase!r}")
        for phrase in CONSOLE_BASE_URL_STALE:
            if phrase.replace("`", "").lower() in text:
                fail(f"{rel}: says {phrase!r} about CONSOLE_BASE_URL (stale: the console hands it out now)")
    example = (root / ".env.example").read_text()
    block = re.search(r"((?:^#.*\n)+)EZM_HTTP_PORT=", example, re.M)
    if not block or "compose file only" not in block.group(1) or "CONSOLE_BASE_URL" not in block.group(1):
        fail(".env.example: EZM_HTTP_PORT's comment must say it is a port of the compose file only (nginx's container "
             "and published port, part of the default CONSOLE_BASE_URL)")
    ok(f"CONSOLE_BASE_URL described the same way in {', '.join(CONSOLE_BASE_URL_DOCS)}; EZM_HTTP_PORT is compose's")


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
    # all-in-one's .env names: each said to be honoured or not read; the honoured ports are read as fallbacks.
    comments = "\n".join(line for line in lines if line.startswith("#"))
    for name in sorted(ALLINONE_HONOURED.keys() | ALLINONE_IGNORED):
        if not re.search(rf"\b{name}\b[^\n]*\b(honoured|not read)\b", comments):
            fail(f".env.example: does not say whether all-in-one's {name} is honoured or not read")
    for name, ours in ALLINONE_HONOURED.items():
        if name != ours and f"${{{ours}:-${{{name}:-" not in raw:
            fail(f"docker-compose.yml: all-in-one's {name} is not the fallback of {ours} (${{{ours}:-${{{name}:-…}}}})")
    for name in ALLINONE_IGNORED:
        if re.search(rf"\$\{{{name}\b", raw):
            fail(f"docker-compose.yml: reads all-in-one's {name}, which .env.example says is not read")
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
    copy_all = text.find("COPY crates/ crates/", text.find("AS builder"))
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
    ui = text[text.find("AS ui"):text.find("\nFROM ", text.find("AS ui"))] if "AS ui" in text else ""
    if "ui" not in stages or not re.search(r"NODE_IMAGE=node:20-bookworm-slim", text):
        fail(f"{where}: the web UI stage `ui` (node:20-bookworm-slim) is missing")
    elif not re.search(r"^RUN npm ci\b", ui, re.M) or not re.search(r"^RUN npm run build\b", ui, re.M):
        fail(f"{where}: the ui stage must `npm ci` and `npm run build` in crates/console/web")
    dist = text.find("COPY --from=ui /src/crates/console/web/dist crates/console/web/dist")
    if not (0 <= copy_all < dist < build):
        fail(f"{where}: the builder must copy the ui stage's dist into crates/console/web/dist before cargo build")
    for path in ["crates/console/web/node_modules", "crates/console/web/dist"]:
        if not dockerignored(root, path):
            fail(f".dockerignore: {path} is sent into the build context")
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
    # An operator's Kubernetes secret files never enter a build context (nor, through COPY . ., a build layer).
    extra = {"secrets/tls.key", "secrets/any-other-file", f"{K8S_S3_COMPONENT}/secrets/any-other-file"}
    for f in sorted(set(k8s_secret_files(root)) | extra):
        if not dockerignored(root, f"{K8S_DIR}/{f}"):
            fail(f".dockerignore: {K8S_DIR}/{f} would enter the build context (exclude its secrets/ directory)")
    ok(f"deploy/Dockerfile: stages {', '.join(stages)} (cargo-chef pinned, dependencies cached), runtime "
       "non-root 10001 with the three binaries, usage CMD; deploy/demo/Dockerfile; .dockerignore (also "
       f"{K8S_DIR}/secrets/* and {K8S_DIR}/{K8S_S3_COMPONENT}/secrets/*)")
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
# The optional kustomize component (a directory of deploy/k8s) that moves the console's profiles to S3 and runs
# several console replicas; validate.sh renders with it switched on too. With it the console's Secret also holds:
K8S_S3_COMPONENT = "console-s3"
K8S_S3_SECRET = "EZM__CONSOLE__S3_SECRET_ACCESS_KEY"
# The only writable paths (the root filesystem is read-only).
K8S_WRITABLE = {"ws-server": {"/tmp"}, "manager": {"/tmp"}, "console": {"/tmp", "/var/lib/easy-monitor"}}
# Scaled by a HorizontalPodAutoscaler and guarded by a PodDisruptionBudget; the console keeps one replica.
K8S_SCALED = {"ws-server", "manager"}
NGINX = "nginx.ingress.kubernetes.io/"
AGENT_HEARTBEAT_SECS = 60
# Paths of each public backend that only the cluster may use (probes, scrapers, the manager): refused on the public
# hosts by Ingresses whose source range admits loopback only. (The console's /xapi/upload_from_xtransit is public.)
K8S_INTERNAL_PATHS = {"ezm-ws-server": {"/xapi", "/readyz", "/metrics"}, "ezm-console": {"/readyz", "/metrics"}}
LOOPBACK_ONLY = {"127.0.0.1/32", "127.0.0.1"}
# The committed image name points at a reserved domain (RFC 2606 .invalid) until the operator sets theirs.
K8S_IMAGE_PLACEHOLDER_HOST = "registry.example.invalid"
# Services that connect to MySQL (and so use the TLS settings and a CA file).
K8S_MYSQL_USERS = {"manager", "console"}
MYSQL_TLS_MODES = {"disabled", "required", "verify_identity"}
MYSQL_TLS_KEYS = ("EZM__CONSOLE_MYSQL__TLS", "EZM__LOGS_MYSQL__TLS")


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


def k8s_secret_files(root):
    """The secret files the kustomization and the S3 component read, relative to deploy/k8s, with their keys."""
    k8s = root / K8S_DIR
    files = {}
    for base in ("", f"{K8S_S3_COMPONENT}/"):
        path = k8s / base / "kustomization.yaml"
        kust = (yaml.safe_load(path.read_text()) or {}) if path.exists() else {}
        for gen in kust.get("secretGenerator") or []:
            for f in gen.get("files") or []:
                key, _, file = f.partition("=") if "=" in f else (Path(f).name, "", f)
                files[base + file] = key
    return files


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
    # The name must start with a registry host (a dot, a port or localhost in its first part): a bare
    # easy-monitor/easy-monitor would be looked up on a public registry, where anyone may publish that name.
    registry = str(image.get("newName") or "").split("/")[0]
    if "/" not in str(image.get("newName") or "") or not ("." in registry or ":" in registry or registry == "localhost"):
        fail(f"kustomization.yaml: images: newName {image.get('newName')!r} does not start with a registry host "
             f"(unedited it must be {K8S_IMAGE_PLACEHOLDER_HOST}/{K8S_IMAGE}, which fails closed)")
    elif registry == K8S_IMAGE_PLACEHOLDER_HOST and image.get("newName") != f"{K8S_IMAGE_PLACEHOLDER_HOST}/{K8S_IMAGE}":
        fail(f"kustomization.yaml: images: newName {image['newName']!r}: the placeholder is "
             f"{K8S_IMAGE_PLACEHOLDER_HOST}/{K8S_IMAGE}")
    for gen in kust.get("configMapGenerator") or []:
        for env in gen.get("envs") or []:
            if not (k8s / env).exists():
                fail(f"kustomization.yaml: configMapGenerator {gen['name']}: {env} does not exist")
                continue
            check_env_names(f"{K8S_DIR}/{env} (ConfigMap {gen['name']})", env_file_keys(k8s / env), allowed)
    # The S3 component: a Component, its settings and secret keys names the services read, off in the committed
    # kustomization (the switch validate.sh turns on is the commented `components:` entry README.md describes).
    comp_path = k8s / K8S_S3_COMPONENT / "kustomization.yaml"
    comp = (yaml.safe_load(comp_path.read_text()) or {}) if comp_path.exists() else {}
    if comp.get("kind") != "Component":
        fail(f"{K8S_DIR}/{K8S_S3_COMPONENT}/kustomization.yaml: missing or not a kustomize Component")
    if kust.get("components"):
        fail("kustomization.yaml: components enabled in the committed file (the default keeps profiles on the "
             f"console's volume; {K8S_S3_COMPONENT} is switched on by the operator)")
    if not re.search(rf"^# components:\n#   - {K8S_S3_COMPONENT}$", (k8s / "kustomization.yaml").read_text(), re.M):
        fail(f"kustomization.yaml: the commented switch '# components:' / '#   - {K8S_S3_COMPONENT}' is missing")
    for gen in comp.get("configMapGenerator") or []:
        for env in gen.get("envs") or []:
            where = f"{K8S_DIR}/{K8S_S3_COMPONENT}/{env} (ConfigMap {gen['name']})"
            check_env_names(where, env_file_keys(k8s / K8S_S3_COMPONENT / env), allowed)
    secret_keys = set()
    for where, gens in (("kustomization.yaml", kust.get("secretGenerator")),
                        (f"{K8S_S3_COMPONENT}/kustomization.yaml", comp.get("secretGenerator"))):
        for gen in gens or []:
            if gen.get("envs") or gen.get("literals"):
                fail(f"{where}: secretGenerator {gen['name']} must read files from secrets/ only")
            for f in gen.get("files") or []:
                key, _, path = f.partition("=") if "=" in f else (Path(f).name, "", f)
                if Path(path).parent != Path("secrets"):
                    fail(f"{where}: secretGenerator {gen['name']}: {path} is not in secrets/")
                secret_keys.add(key)
    secret_files = set(k8s_secret_files(root))
    check_env_names("kustomization.yaml: secretGenerator keys", sorted(secret_keys), allowed)
    # No secret value may be committed: the files the generator reads are git-ignored, nothing else is tracked there.
    if (root / ".git").exists():
        import subprocess  # only here: the rest of this script runs no commands
        for path in sorted(secret_files):
            ignored = subprocess.run(["git", "-C", str(root), "check-ignore", "-q", "--no-index", f"{K8S_DIR}/{path}"])
            if ignored.returncode != 0:
                fail(f"{K8S_DIR}/{path} is not git-ignored (a secret value could be committed)")
        for d in (f"{K8S_DIR}/secrets", f"{K8S_DIR}/{K8S_S3_COMPONENT}/secrets"):
            tracked = subprocess.run(["git", "-C", str(root), "ls-files", d], capture_output=True, text=True).stdout.split()
            extra = sorted(set(tracked) - {f"{d}/.gitignore", f"{d}/README.md"})
            if extra:
                fail(f"{d}: files tracked by git besides README.md and .gitignore: {', '.join(extra)}")
    # TLS to MySQL: set explicitly (a decision, with its comment), to a mode the services know.
    shared_env = k8s / "config/shared.env"
    if shared_env.exists():
        text = shared_env.read_text()
        values = dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#") and "=" in line)
        for key in MYSQL_TLS_KEYS:
            if values.get(key) not in MYSQL_TLS_MODES:
                fail(f"{K8S_DIR}/config/shared.env: {key} is {values.get(key)!r}, expected one of {sorted(MYSQL_TLS_MODES)}")
            if f"{key}_CA_FILE" not in values:
                fail(f"{K8S_DIR}/config/shared.env: {key}_CA_FILE missing (empty: public roots)")
        comments = " ".join(line for line in text.splitlines() if line.startswith("#"))
        if not all(w in comments for w in ("verify_identity", "required", "disabled")):
            fail(f"{K8S_DIR}/config/shared.env: the TLS comment must explain disabled, required and verify_identity")
    ok(f"{K8S_DIR}: kustomization resources, image {expected_image} (registry host "
       f"{registry}{', the fail-closed placeholder' if registry == K8S_IMAGE_PLACEHOLDER_HOST else ''}), env files, "
       "MySQL TLS settings, secret files git-ignored")

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
    grace = pod.get("terminationGracePeriodSeconds")
    if not isinstance(grace, int) or grace < K8S_PRESTOP_SECS + DRAIN_SECS[svc]:
        fail(f"{where}: terminationGracePeriodSeconds {grace!r} does not cover the {K8S_PRESTOP_SECS} s preStop pause "
             f"and the {DRAIN_SECS[svc]} s drain")

    volumes = {v["name"]: v for v in pod.get("volumes") or []}
    mounts = c.get("volumeMounts") or []
    writable = {m["mountPath"] for m in mounts
                if not m.get("readOnly") and not {"secret", "configMap"} & set(volumes.get(m["name"], {}))}
    # With S3 storage the console keeps nothing on its pods: no volume, several replicas, rolling updates.
    s3 = svc == "console" and ctx["storage"] == "s3"
    expected_writable = {"/tmp"} if s3 else K8S_WRITABLE[svc]
    if writable != expected_writable:
        fail(f"{where}: writable mounts {sorted(writable)}, expected {sorted(expected_writable)}")
    if s3:
        if any("persistentVolumeClaim" in v for v in volumes.values()):
            fail(f"{where}: mounts a PersistentVolumeClaim although its profiles are in S3")
        if not isinstance(spec.get("replicas"), int) or spec["replicas"] < 2 \
                or (spec.get("strategy") or {}).get("type", "RollingUpdate") != "RollingUpdate":
            fail(f"{where}: with S3 storage, expected at least 2 replicas and strategy RollingUpdate")
    elif svc == "console":
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
    # MySQL over TLS: a valid mode, and a CA file, when named, inside a read-only Secret/ConfigMap mount.
    if svc in K8S_MYSQL_USERS:
        values = {}
        for ref in c.get("envFrom") or []:
            values |= (ctx["configmaps"].get((ref.get("configMapRef") or {}).get("name")) or {}).get("data") or {}
        values |= {e["name"]: e.get("value") for e in c.get("env") or [] if "value" in e}
        ro_mounts = [m["mountPath"].rstrip("/") + "/" for m in mounts
                     if m.get("readOnly") and {"secret", "configMap", "projected"} & set(volumes.get(m["name"], {}))]
        for key in MYSQL_TLS_KEYS:
            mode, ca = values.get(key, "disabled"), values.get(f"{key}_CA_FILE") or ""
            if mode not in MYSQL_TLS_MODES:
                fail(f"{where}: {key}={mode!r} is not one of {sorted(MYSQL_TLS_MODES)}")
            if ca and not any(ca.startswith(m) for m in ro_mounts):
                fail(f"{where}: {key}_CA_FILE={ca} is not in a read-only Secret or ConfigMap mount of the pod")
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
        if s3:
            required = required | {K8S_S3_SECRET}
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


def check_k8s_rendered(rendered, allowed, image, hosts_file=None, committed_hosts=None, storage="local"):
    """The rendered output; `storage` is the console's storage backend it must have (s3: the component is on)."""
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
           "pvcs": by_kind.get("PersistentVolumeClaim", {}), "used_secrets": set(), "storage": storage}
    console_cm = (next((cm for n, cm in configmaps.items() if n.startswith("ezm-console-config")), {}).get("data") or {})
    backend = console_cm.get("EZM__CONSOLE__STORAGE_BACKEND", "local")
    if backend != storage:
        fail(f"rendered ConfigMap ezm-console-config: EZM__CONSOLE__STORAGE_BACKEND is {backend!r}, expected {storage!r}")
    if storage == "s3":
        if not console_cm.get("EZM__CONSOLE__S3_BUCKET", "").strip():
            fail("rendered ConfigMap ezm-console-config: EZM__CONSOLE__S3_BUCKET is empty (the console would not start)")
        if ctx["pvcs"]:
            fail(f"rendered: PersistentVolumeClaims {sorted(ctx['pvcs'])} although the console keeps profiles in S3")
        ok(f"rendered: console storage s3, bucket {console_cm.get('EZM__CONSOLE__S3_BUCKET')!r}, no volume claim")
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
        if svc == "console" and storage == "s3":
            if hpa or len(pdb) != 1:
                fail("rendered: with S3 storage the console needs one PodDisruptionBudget and no autoscaler "
                     f"({len(pdb)} budgets, {len(hpa)} autoscalers)")
            else:
                ok(f"rendered: console with S3 storage: {dep['spec'].get('replicas')} replicas, PodDisruptionBudget")
            continue
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

    # Ingress: WebSocket- and upload-friendly ingress-nginx settings, the manager never exposed, the internal paths
    # refused on the public hosts, hosts consistent.
    ingresses = by_kind.get("Ingress", {})
    console_url = console_cm.get("CONSOLE_BASE_URL", "")
    url_host = console_url.split("/")[2] if console_url.count("/") >= 2 else ""
    max_upload = int(console_cm.get("EZM__CONSOLE__MAX_UPLOAD_BYTES", 4 << 30))
    public, internal = {}, {}  # backend -> hosts; (host, backend) -> internal paths refused
    ingress_hosts = {}  # backend -> every host (rules and tls) of every Ingress reaching it
    for name, ing in ingresses.items():
        where = f"rendered Ingress {name}"
        notes = ing["metadata"].get("annotations") or {}
        rules = ing["spec"].get("rules") or []
        paths = [(r.get("host"), p["path"], p.get("pathType"), p["backend"]["service"]["name"])
                 for r in rules for p in (r.get("http") or {}).get("paths") or []]
        backends = {b for *_, b in paths}
        for b in backends - set(services):
            fail(f"{where}: backend {b} is not a Service")
        if "ezm-manager" in backends:
            fail(f"{where}: exposes the manager (internal API)")
        tls_hosts = {h for t in ing["spec"].get("tls") or [] for h in t.get("hosts") or []}
        for b in backends:
            ingress_hosts.setdefault(b, set()).update({r.get("host") for r in rules} | tls_hosts)
        refused = [(h, p, t, b) for h, p, t, b in paths if p in K8S_INTERNAL_PATHS.get(b, set())]
        if refused:
            if len(refused) != len(paths):
                fail(f"{where}: mixes internal paths with public ones (the source range would cover both)")
            ranges = {k: {r.strip() for r in str(notes[NGINX + k]).split(",")}
                      for k in ("allowlist-source-range", "whitelist-source-range") if NGINX + k in notes}
            if not ranges or any(not r <= LOOPBACK_ONLY for r in ranges.values()):
                fail(f"{where}: internal paths {sorted(p for _, p, _, _ in refused)} not refused from outside "
                     f"(source range {ranges or 'none'}, expected only 127.0.0.1/32)")
            for h, p, t, b in refused:
                if t not in ("Exact", "Prefix") or (p == "/xapi" and t != "Prefix"):
                    fail(f"{where}: {p} has pathType {t!r} (Exact or Prefix; /xapi/* needs Prefix)")
                internal.setdefault((h, b), set()).add(p)
            continue
        for h, *_ in paths:
            for b in backends:
                public.setdefault(b, set()).add(h)
        if tls_hosts and tls_hosts != {r.get("host") for r in rules}:
            fail(f"{where}: tls hosts {sorted(tls_hosts)} differ from its rules' hosts")
        for t in ("proxy-read-timeout", "proxy-send-timeout"):
            secs = str(notes.get(NGINX + t, 60))
            if not secs.isdigit() or int(secs) <= AGENT_HEARTBEAT_SECS:
                fail(f"{where}: {t} must exceed the agents' {AGENT_HEARTBEAT_SECS} s heartbeat")
        if "ezm-console" in backends:
            size = nginx_size_bytes(notes.get(NGINX + "proxy-body-size", "1m"))
            if size is None or size < max_upload:
                fail(f"{where}: proxy-body-size below the console's {max_upload} bytes uploads")
            if notes.get(NGINX + "proxy-request-buffering") != "off":
                fail(f"{where}: proxy-request-buffering is not off (uploads would be buffered)")
            hosts = {r.get("host") for r in rules}
            if hosts != {url_host}:
                fail(f"{where}: hosts {sorted(hosts)} differ from CONSOLE_BASE_URL {console_url}")
        ok(f"{where}: backends {sorted(backends)}, timeouts above {AGENT_HEARTBEAT_SECS} s")
    for backend, paths in K8S_INTERNAL_PATHS.items():
        if backend not in public:
            fail(f"rendered: no public Ingress for {backend}")
        for host in sorted(public.get(backend, set())):
            missing = paths - internal.get((host, backend), set())
            if missing:
                fail(f"rendered: {', '.join(sorted(missing))} of {backend} reachable from outside on {host} (no "
                     "Ingress refusing them)")
            else:
                ok(f"rendered: {', '.join(sorted(paths))} of {backend} refused from outside on {host} (source range "
                   "127.0.0.1/32)")

    # The hosts of hosts.yaml (validate.sh renders with other ones than the committed file's) reach every Ingress
    # rule and TLS entry and CONSOLE_BASE_URL; none of the committed example hosts is left anywhere.
    if hosts_file is not None:
        expected = (yaml.safe_load(hosts_file.read_text()).get("data")) or {}
        for key, backend in (("console", "ezm-console"), ("ws-server", "ezm-ws-server")):
            seen = ingress_hosts.get(backend, set())
            if seen != {expected.get(key)}:
                fail(f"rendered: Ingress hosts of {backend} are {sorted(map(str, seen))}, expected only "
                     f"{expected.get(key)} from hosts.yaml (a replacement target is missing)")
        if url_host != expected.get("console"):
            fail(f"rendered: CONSOLE_BASE_URL {console_url} does not carry the console host {expected.get('console')}")
        committed = (yaml.safe_load(committed_hosts.read_text()).get("data")) or {}
        text = rendered.read_text()
        left = sorted(h for k, h in committed.items() if h != expected.get(k) and re.search(rf"\b{re.escape(h)}\b", text))
        if left:
            fail(f"rendered: the committed example hosts {left} are still in the output (not replaced)")
        elif committed == expected:
            fail("rendered: hosts.yaml was rendered with the committed hosts: the replacement is not tested")
        else:
            ok(f"rendered: the hosts of hosts.yaml ({expected.get('console')}, {expected.get('ws-server')}) reach every "
               "Ingress rule and TLS entry and CONSOLE_BASE_URL")


def check_k8s(root, allowed, rendered, hosts_file, rendered_s3):
    global context
    image = check_k8s_sources(root, allowed)
    if rendered is None:
        fail("deploy/k8s: no rendered kustomize output given (--k8s-rendered): Deployments not checked")
        return
    if hosts_file is None:
        fail("deploy/k8s: no --k8s-hosts (the hosts.yaml the output was rendered with): host replacement not checked")
    check_k8s_rendered(rendered, allowed, image, hosts_file, root / K8S_DIR / "hosts.yaml")
    if rendered_s3 is None:
        fail(f"deploy/k8s: no output rendered with the {K8S_S3_COMPONENT} component (--k8s-rendered-s3)")
        return
    context = f"[{K8S_S3_COMPONENT}] "
    check_k8s_rendered(rendered_s3, allowed, image, hosts_file, root / K8S_DIR / "hosts.yaml", storage="s3")
    context = ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", type=Path, required=True)
    ap.add_argument("--compose-json", type=Path, help="output of `docker compose config --format json`")
    ap.add_argument("--k8s-rendered", type=Path, help="output of `kubectl kustomize deploy/k8s` (validate.sh renders it)")
    ap.add_argument("--k8s-rendered-s3", type=Path,
                    help=f"the same with the {K8S_S3_COMPONENT} component switched on (validate.sh renders it)")
    ap.add_argument("--k8s-hosts", type=Path, help="the hosts.yaml the output was rendered with (not the committed one)")
    ap.add_argument("--compose-allinone-json", type=Path, help="`docker compose config` with --print-allinone-env")
    ap.add_argument("--compose-both-json", type=Path, help="the same with our port names set too")
    ap.add_argument("--print-allinone-env", choices=["allinone", "both"],
                    help="print the .env validate.sh resolves the compose file with, and exit")
    args = ap.parse_args()
    if args.print_allinone_env:
        env = ALLINONE_ENV | (OUR_PORTS_ENV if args.print_allinone_env == "both" else {})
        print("COMPOSE_PROFILES=demo")
        print("\n".join(f"{k}={v}" for k, v in env.items()))
        return 0
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
    if args.compose_allinone_json and args.compose_both_json:
        check_compose_allinone(json.loads(args.compose_allinone_json.read_text()),
                               json.loads(args.compose_both_json.read_text()))
    else:
        fail("docker-compose.yml: not resolved with all-in-one's .env (--compose-allinone-json, --compose-both-json)")
    check_console_base_url_docs(root)
    ok(f"docker-compose.yml checked ({source})")
    check_k8s(root, allowed, args.k8s_rendered, args.k8s_hosts, args.k8s_rendered_s3)

    for c in checked:
        print(f"validate: ok: {c}")
    for p in problems:
        print(f"validate: FAIL: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
