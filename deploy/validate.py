"""Offline checks of the deployment files (called by deploy/validate.sh, which provides PyYAML).

Checks docker-compose.yml, deploy/Dockerfile, .dockerignore and deploy/k8s/*.yaml for what the services need:
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
# Names the services read besides the settings table: the config file path and the tracing filter.
EXTRA_ENV = {"EZM_CONFIG", "RUST_LOG"}
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
    unknown = sorted(n for n in names if n not in allowed and n not in helpers)
    if unknown:
        fail(f"{where}: environment names no service reads: {', '.join(unknown)}")
    else:
        ok(f"{where}: {len(names)} env names, all read by the services")


def healthcheck_cmd(svc):
    test = (svc.get("healthcheck") or {}).get("test")
    if isinstance(test, list):
        return " ".join(str(t) for t in test)
    return str(test or "")


def check_compose(root, compose, allowed, stages):
    services = compose.get("services") or {}
    for name in ["mariadb", "redis", *SERVICES, "nginx"]:
        if name not in services:
            fail(f"docker-compose.yml: service {name} missing")
    for name in ["mariadb", "redis"]:
        if name in services and not healthcheck_cmd(services[name]):
            fail(f"docker-compose.yml: {name} has no healthcheck")
    for name, port in SERVICES.items():
        svc = services.get(name)
        if not svc:
            continue
        where = f"docker-compose.yml: {name}"
        build = svc.get("build") or {}
        if Path(str(build.get("dockerfile", ""))).name != "Dockerfile" or "deploy" not in str(build.get("dockerfile")):
            fail(f"{where}: build.dockerfile is not deploy/Dockerfile")
        if build.get("target") not in stages:
            fail(f"{where}: build.target {build.get('target')!r} is not a stage of deploy/Dockerfile")
        hc = healthcheck_cmd(svc)
        if f"127.0.0.1:{port}/healthz" not in hc or "curl" not in hc:
            fail(f"{where}: healthcheck does not curl 127.0.0.1:{port}/healthz ({hc!r})")
        for dep, spec in (svc.get("depends_on") or {}).items():
            if (spec or {}).get("condition") != "service_healthy":
                fail(f"{where}: depends_on {dep} without condition service_healthy")
            elif not healthcheck_cmd(services.get(dep, {})):
                fail(f"{where}: depends on {dep}, which has no healthcheck")
        published = {str(p.get("target") if isinstance(p, dict) else str(p).rsplit(":", 1)[-1]) for p in svc.get("ports") or []}
        if str(port) not in published:
            fail(f"{where}: port {port} not published")
        env = svc.get("environment") or {}
        if isinstance(env, list):
            env = dict(e.split("=", 1) if "=" in e else (e, None) for e in env)
        for required in ["EZM_SECRET", "MANAGER_BASE_URL", "REDIS_SERVER", "DB_SERVER_HOST"]:
            if required not in env:
                fail(f"{where}: {required} not set")
        if env.get("MANAGER_BASE_URL") not in (None, "http://manager:8543"):
            fail(f"{where}: MANAGER_BASE_URL is {env.get('MANAGER_BASE_URL')!r}, expected http://manager:8543")
        check_env_names(where, list(env), allowed)
        ok(f"{where}: build target, healthcheck /healthz, depends_on healthy, port {port}")
    ws_env = (services.get("ws-server") or {}).get("environment") or {}
    if isinstance(ws_env, dict) and ws_env.get("EZM__WS_SERVER__ADVERTISE_ADDRESS") != "ws-server:9190":
        fail("docker-compose.yml: ws-server EZM__WS_SERVER__ADVERTISE_ADDRESS is not ws-server:9190")
    nginx = services.get("nginx") or {}
    if "nginx" not in (nginx.get("profiles") or []):
        fail("docker-compose.yml: nginx is not behind the 'nginx' profile")
    if not any("easy-monitor.conf" in (v if isinstance(v, str) else str(v.get("source", ""))) for v in nginx.get("volumes") or []):
        fail("docker-compose.yml: nginx does not mount nginx/easy-monitor.conf")
    ok("docker-compose.yml: mariadb/redis health checks, nginx profile and config mount")


def check_dockerfile(root):
    text = (root / "deploy/Dockerfile").read_text()
    stages = set(re.findall(r"^FROM\s+\S+\s+AS\s+(\S+)", text, re.M | re.I))
    for s in ["builder", "runtime", *SERVICES]:
        if s not in stages:
            fail(f"deploy/Dockerfile: stage {s} missing")
    if "cargo build --release --locked -p ws-server -p manager -p console" not in text:
        fail("deploy/Dockerfile: the cargo build of the three binaries is missing")
    if not re.search(r"^FROM\s+rust:1-bookworm|RUST_IMAGE=rust:1-bookworm", text, re.M):
        fail("deploy/Dockerfile: builder is not rust:1-bookworm")
    if not re.search(r"^FROM\s+debian:bookworm-slim|RUNTIME_IMAGE=debian:bookworm-slim", text, re.M):
        fail("deploy/Dockerfile: runtime is not debian:bookworm-slim")
    if not re.search(r"^USER\s+(?!root|0\b)\S+", text, re.M):
        fail("deploy/Dockerfile: no non-root USER")
    if re.search(r"^HEALTHCHECK", text, re.M):
        fail("deploy/Dockerfile: has a HEALTHCHECK (compose/k8s do the health checks)")
    for name, port in SERVICES.items():
        m = re.search(rf"^FROM\s+runtime\s+AS\s+{re.escape(name)}\s*$(.*?)(?=^FROM|\Z)", text, re.M | re.S)
        if not m or f"/usr/local/bin/{name}" not in m.group(1) or f"EXPOSE {port}" not in m.group(1):
            fail(f"deploy/Dockerfile: stage {name} does not run /usr/local/bin/{name} and expose {port}")
    ignore = (root / ".dockerignore").read_text().split()
    for entry in ["target/", "node_modules/", ".git"]:
        if entry not in ignore:
            fail(f".dockerignore: {entry} missing")
    ok(f"deploy/Dockerfile: stages {', '.join(sorted(stages))}; non-root; no HEALTHCHECK; .dockerignore")
    return stages


def load_k8s(root):
    docs = []
    for path in sorted((root / "deploy/k8s").glob("*.yaml")):
        for i, doc in enumerate(yaml.safe_load_all(path.read_text())):
            if doc is not None:
                docs.append((f"{path.name}#{i}", path.name, doc))
    return docs


def check_k8s(root, allowed):
    docs = load_k8s(root)
    by_kind = {}
    for where, fname, doc in docs:
        if fname == "kustomization.yaml":
            for res in doc.get("resources", []):
                if not (root / "deploy/k8s" / res).exists():
                    fail(f"kustomization.yaml: resource {res} does not exist")
            continue
        for field in ("apiVersion", "kind"):
            if not doc.get(field):
                fail(f"{where}: {field} missing")
        name = (doc.get("metadata") or {}).get("name")
        if not name:
            fail(f"{where}: metadata.name missing")
        by_kind.setdefault(doc.get("kind"), {})[name] = (where, doc)
    ok(f"deploy/k8s: {len(docs)} YAML documents parsed; apiVersion, kind, metadata.name present")

    configmaps = by_kind.get("ConfigMap", {})
    secrets = by_kind.get("Secret", {})
    for name, (where, doc) in configmaps.items():
        check_env_names(f"{where} ConfigMap {name}", list(doc.get("data") or {}), allowed)
    for name, (where, doc) in secrets.items():
        keys = list(doc.get("stringData") or {}) + list(doc.get("data") or {})
        check_env_names(f"{where} Secret {name}", keys, allowed)

    deployments = by_kind.get("Deployment", {})
    for svc, port in SERVICES.items():
        dname = K8S_NAMES[svc]
        if dname not in deployments:
            fail(f"deploy/k8s: Deployment {dname} missing")
            continue
        where, dep = deployments[dname]
        spec = dep["spec"]
        pod = spec["template"]["spec"]
        labels = spec["template"]["metadata"].get("labels") or {}
        if any(labels.get(k) != v for k, v in spec["selector"]["matchLabels"].items()):
            fail(f"{where}: selector does not match the pod template labels")
        if not isinstance(pod.get("terminationGracePeriodSeconds"), int):
            fail(f"{where}: terminationGracePeriodSeconds not set")
        for c in pod.get("containers") or []:
            cw = f"{where} container {c.get('name')}"
            if not c.get("image"):
                fail(f"{cw}: image missing")
            ports = {p.get("name"): p.get("containerPort") for p in c.get("ports") or []}
            if port not in ports.values():
                fail(f"{cw}: containerPort {port} missing")
            for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
                get = ((c.get(probe) or {}).get("httpGet")) or {}
                if get.get("path") != path:
                    fail(f"{cw}: {probe} is not httpGet {path}")
                if get.get("port") not in ports and get.get("port") != port:
                    fail(f"{cw}: {probe} port {get.get('port')!r} is not a container port")
            res = c.get("resources") or {}
            if not (res.get("requests") and res.get("limits")):
                fail(f"{cw}: resources.requests/limits missing")
            for ref in c.get("envFrom") or []:
                if "configMapRef" in ref and ref["configMapRef"]["name"] not in configmaps:
                    fail(f"{cw}: envFrom ConfigMap {ref['configMapRef']['name']} not defined in deploy/k8s")
                if "secretRef" in ref and ref["secretRef"]["name"] not in secrets:
                    fail(f"{cw}: envFrom Secret {ref['secretRef']['name']} not defined (not even as an example)")
            env = c.get("env") or []
            names = [e["name"] for e in env]
            check_env_names(cw, names, allowed, K8S_HELPER_ENV)
            if svc == "ws-server":
                pod_ip = next((i for i, e in enumerate(env) if e["name"] == "POD_IP"), None)
                adv = next((i for i, e in enumerate(env) if e["name"] == "EZM__WS_SERVER__ADVERTISE_ADDRESS"), None)
                if pod_ip is None or env[pod_ip].get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") != "status.podIP":
                    fail(f"{cw}: POD_IP is not taken from status.podIP")
                if adv is None or env[adv].get("value") != "$(POD_IP):9190" or (pod_ip is not None and adv < pod_ip):
                    fail(f"{cw}: EZM__WS_SERVER__ADVERTISE_ADDRESS is not $(POD_IP):9190 after POD_IP")
        ok(f"{where} Deployment {dname}: image, port {port}, readiness /readyz, liveness /healthz, resources, grace period")

    services = by_kind.get("Service", {})
    for name, (where, svc) in services.items():
        sel = (svc.get("spec") or {}).get("selector") or {}
        targets = [d for _, d in deployments.values()
                   if sel and all((d["spec"]["template"]["metadata"].get("labels") or {}).get(k) == v for k, v in sel.items())]
        if not targets:
            fail(f"{where}: Service {name} selects no Deployment")
            continue
        port_names = {p.get("name") for c in targets[0]["spec"]["template"]["spec"]["containers"] for p in c.get("ports") or []}
        port_nums = {p.get("containerPort") for c in targets[0]["spec"]["template"]["spec"]["containers"] for p in c.get("ports") or []}
        for p in svc["spec"].get("ports") or []:
            tp = p.get("targetPort", p.get("port"))
            if tp not in port_names and tp not in port_nums:
                fail(f"{where}: Service {name} targetPort {tp!r} is not a port of {targets[0]['metadata']['name']}")
        ok(f"{where} Service {name} -> Deployment {targets[0]['metadata']['name']}")
    for name, (where, ing) in by_kind.get("Ingress", {}).items():
        for rule in ing["spec"].get("rules") or []:
            for path in (rule.get("http") or {}).get("paths") or []:
                backend = path["backend"]["service"]
                target = services.get(backend["name"])
                if not target:
                    fail(f"{where}: Ingress {name} backend {backend['name']} is not a Service")
                    continue
                sports = {p.get("name") for p in target[1]["spec"]["ports"]} | {p.get("port") for p in target[1]["spec"]["ports"]}
                bport = backend["port"].get("name", backend["port"].get("number"))
                if bport not in sports:
                    fail(f"{where}: Ingress {name} backend port {bport!r} is not a port of Service {backend['name']}")
        ok(f"{where} Ingress {name}: backends exist")
    if "ezm-manager" in services and services["ezm-manager"][1]["spec"].get("type", "ClusterIP") != "ClusterIP":
        fail("manager Service must stay ClusterIP (internal API)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", type=Path, required=True)
    ap.add_argument("--compose-json", type=Path, help="output of `docker compose config --format json`")
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
    check_k8s(root, allowed)

    for c in checked:
        print(f"validate: ok: {c}")
    for p in problems:
        print(f"validate: FAIL: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
