#!/usr/bin/env python3
"""The deployment rules of k8s/README.md, checked on the rendered overlays and their sources.

    check-k8s-rules.py --rendered DIR --k8s k8s --schemas DIR --operations docs/OPERATIONS.md --out DIR

DIR (--rendered) holds <overlay>.yaml for each overlay (`kubectl kustomize k8s/overlays/<overlay>`,
rendered with the committed secrets/*.env.example files). Run by scripts/validate-deploy.sh, with the
venv that has PyYAML, jsonschema and promql-parser.

Every violation is printed as `RULE <name>: <overlay> <object>: <what is wrong>`; the exit status is 1
if there is any. Before checking the real manifests the script proves that each rule can fail: it
breaks a copy of the rendered objects (or of a kustomization) once per rule and expects exactly that
rule to complain (the "self-test" lines), so a check that silently stopped matching anything fails.

It also writes, for the steps that follow it in validate-deploy.sh:
  <out>/<overlay>.core.yaml          the objects of built-in kinds (for kubernetes-validate --strict)
  <out>/<overlay>/todo-app.rules.yaml the PrometheusRule groups as a Prometheus rule file (for promtool)
"""

from __future__ import annotations

import argparse
import copy
import glob
import os
import posixpath
import re
import sys
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import jsonschema
import promql_parser
import yaml

# --- What the binaries and the manifests agree on -------------------------------------------------

SERVICES = {
    "auth-service": {"prefix": "AUTH", "http": 8080, "management": 9090},
    "todo-service": {"prefix": "TODO", "http": 8081, "management": 9091},
}

# Settings whose value is a secret: they may only reach a container as a file (<NAME>_FILE).
SECRET_SETTINGS = {
    "AUTH_DATABASE_URL",
    "AUTH_KEY_ENCRYPTION_KEY",
    "AUTH_BOOTSTRAP_ADMIN_PASSWORD",
    "AUTH_RESET_WEBHOOK_SECRET",
    "TODO_DATABASE_URL",
}
# Every pod needs these files.
REQUIRED_SECRET_FILES = {
    "auth-service": {"AUTH_DATABASE_URL", "AUTH_KEY_ENCRYPTION_KEY"},
    "todo-service": {"TODO_DATABASE_URL"},
}
# And these in an overlay that sets them (prod: a signed, mandatory reset webhook).
REQUIRED_PER_OVERLAY = {
    "prod": {
        "files": {"auth-service": {"AUTH_RESET_WEBHOOK_SECRET"}},
        "secret_env": {"auth-service": {"AUTH_RESET_WEBHOOK_URL"}},
        "settings": {"auth-service": {"AUTH_KEY_ROTATION_INTERVAL_SECS"}},
    },
}

# The only Ingress paths there are, per Ingress name: explicit public prefixes, and the operator-only
# Ingress of k8s/components/operator-ingress.
INGRESS_PATHS = {
    "auth-service": {("/api/auth", "Prefix"), ("/.well-known", "Prefix"), ("/openapi.json", "Exact")},
    "todo-service": {("/api/todos", "Prefix"), ("/app", "Prefix"), ("/openapi.json", "Exact")},
    "operator": {("/api/admin", "Prefix"), ("/docs", "Prefix"), ("/openapi.json", "Exact")},
}
PUBLIC_INGRESS_CLASS = "nginx"
NEVER_ROUTED = ["/metrics", "/healthz", "/readyz"]
NOT_PUBLIC = ["/api/admin", "/docs"]

MONITORING_NAMESPACE = "monitoring"
VERSION_LABEL = "app.kubernetes.io/version"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
OVERLAY_LABELS = {VERSION_LABEL, MANAGED_BY_LABEL, "app.kubernetes.io/instance", "app.kubernetes.io/part-of"}

# Metrics the binaries expose (and `up`, which Prometheus writes for every target), their labels,
# and which job exposes them. Target labels come from the PodMonitors.
METRICS = {
    "http_requests_total": {"labels": {"method", "route", "status"}, "jobs": {"auth-service", "todo-service"}},
    "http_request_duration_seconds_bucket": {"labels": {"method", "route", "le"}, "jobs": {"auth-service", "todo-service"}},
    "logins_total": {"labels": {"outcome"}, "jobs": {"auth-service"}},
    "jwks_age_seconds": {"labels": set(), "jobs": {"todo-service"}},
    "jwks_max_stale_seconds": {"labels": set(), "jobs": {"todo-service"}},
    "revocation_feed_lag_seconds": {"labels": set(), "jobs": {"todo-service"}},
    "db_pool_connections": {"labels": {"state"}, "jobs": {"auth-service", "todo-service"}},
    "db_pool_max_connections": {"labels": set(), "jobs": {"auth-service", "todo-service"}},
    "build_info": {"labels": {"version", "commit"}, "jobs": {"auth-service", "todo-service"}},
    "process_resident_memory_bytes": {"labels": set(), "jobs": {"auth-service", "todo-service"}},
    "process_cpu_seconds_total": {"labels": set(), "jobs": {"auth-service", "todo-service"}},
    "process_open_fds": {"labels": set(), "jobs": {"auth-service", "todo-service"}},
    "up": {"labels": set(), "jobs": {"auth-service", "todo-service"}},
}
LABEL_VALUES = {
    ("logins_total", "outcome"): {"succeeded", "failed", "deactivated", "limited"},
    ("db_pool_connections", "state"): {"in_use", "idle"},
}
TARGET_LABELS = {"job", "service", "namespace", "pod", "container", "endpoint", "instance"}
# What the alerts must cover (issue 13): a metric, and optionally a label value it must select.
REQUIRED_ALERT_COVERAGE = {
    "error ratio": ("http_requests_total", "status", None),
    "p99 latency": ("http_request_duration_seconds_bucket", None, None),
    "JWKS age against max-stale": ("jwks_max_stale_seconds", None, None),
    "revocation-feed lag": ("revocation_feed_lag_seconds", None, None),
    "login-limit saturation": ("logins_total", "outcome", "limited"),
    "database pool saturation": ("db_pool_max_connections", None, None),
}
MONITORING_GROUP = "monitoring.coreos.com"


@dataclass
class Violation:
    rule: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"RULE {self.rule}: {self.where}: {self.message}"


class Report:
    def __init__(self, overlay: str):
        self.overlay = overlay
        self.violations: list[Violation] = []

    def add(self, rule: str, obj: Any, message: str) -> None:
        if isinstance(obj, dict):
            where = f"{self.overlay} {obj.get('kind')}/{(obj.get('metadata') or {}).get('name')}"
        else:
            where = f"{self.overlay} {obj}"
        self.violations.append(Violation(rule, where, message))


# --- Helpers --------------------------------------------------------------------------------------

def kind(docs: list[dict], k: str) -> list[dict]:
    return [d for d in docs if d.get("kind") == k]


def name_of(d: dict) -> str:
    return (d.get("metadata") or {}).get("name", "")


def by_name(docs: list[dict], k: str, name: str) -> dict | None:
    for d in kind(docs, k):
        if name_of(d) == name:
            return d
    return None


def service_of(d: dict) -> str | None:
    """The service a Deployment runs (the name is the service's name)."""
    n = name_of(d)
    return n if n in SERVICES else None


def pod_spec(dep: dict) -> dict:
    return ((dep.get("spec") or {}).get("template") or {}).get("spec") or {}


def main_container(dep: dict) -> dict | None:
    for c in pod_spec(dep).get("containers") or []:
        if c.get("name") == name_of(dep):
            return c
    return None


def all_containers(dep: dict) -> list[dict]:
    ps = pod_spec(dep)
    return list(ps.get("initContainers") or []) + list(ps.get("containers") or [])


def config_of(docs: list[dict], container: dict) -> dict[str, str]:
    """The settings a container gets from ConfigMaps (envFrom) and literal env values."""
    out: dict[str, str] = {}
    for ef in container.get("envFrom") or []:
        ref = (ef.get("configMapRef") or {}).get("name")
        cm = by_name(docs, "ConfigMap", ref) if ref else None
        if cm:
            out.update({k: str(v) for k, v in (cm.get("data") or {}).items()})
    for e in container.get("env") or []:
        if "value" in e:
            out[e["name"]] = str(e["value"])
    return out


def image_tag(image: str) -> str:
    image = image.split("@", 1)[0]
    last = image.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else ""


def selector_matches(selector: dict | None, labels: dict) -> bool:
    """matchLabels only (the manifests use no matchExpressions); {} matches every pod."""
    selector = selector or {}
    if selector.get("matchExpressions"):
        return True  # be conservative: assume it may match
    return all(labels.get(k) == v for k, v in (selector.get("matchLabels") or {}).items())


def path_reaches(path: str, path_type: str, target: str) -> bool:
    """Whether an Ingress path of this type routes requests for `target` (or below it)."""
    if path_type == "Exact":
        return path == target
    if path_type == "Prefix":
        p = path.rstrip("/")
        return p == "" or target == p or target.startswith(p + "/")
    return True  # ImplementationSpecific: a regex for ingress-nginx, may route anything


def github_anchor(heading: str) -> str:
    a = heading.strip().lower()
    a = re.sub(r"[^\w\- ]", "", a)
    return a.replace(" ", "-")


# --- Rules on a rendered overlay -----------------------------------------------------------------

def rule_no_replicas_under_hpa(docs, r: Report):
    rule = "no-replicas-under-hpa"
    targets = {}
    for hpa in kind(docs, "HorizontalPodAutoscaler"):
        ref = (hpa.get("spec") or {}).get("scaleTargetRef") or {}
        if ref.get("kind") == "Deployment":
            targets.setdefault(ref.get("name"), []).append(hpa)
    for dep in kind(docs, "Deployment"):
        hpas = targets.get(name_of(dep), [])
        if not hpas:
            r.add(rule, dep, "no HorizontalPodAutoscaler scales this Deployment")
        if "replicas" in (dep.get("spec") or {}):
            r.add(rule, dep, f"sets spec.replicas={dep['spec']['replicas']} although an HPA scales it: every "
                             "apply would reset the autoscaled count (the HPA's minReplicas is the floor)")
        for hpa in hpas:
            if not (hpa.get("spec") or {}).get("minReplicas"):
                r.add(rule, hpa, "no minReplicas: the floor must be explicit")


def rule_migrations_in_init_containers(docs, r: Report):
    rule = "migrations-in-init-containers"
    for k in ("Job", "CronJob"):
        for j in kind(docs, k):
            r.add(rule, j, f"a {k}: migrations run in the Deployments' init containers, not in Jobs")
    for dep in kind(docs, "Deployment"):
        svc = service_of(dep)
        main = main_container(dep)
        if not svc or not main:
            r.add(rule, dep, "not a known service Deployment with its main container")
            continue
        inits = [c for c in pod_spec(dep).get("initContainers") or [] if c.get("args") == ["migrate"]]
        if len(inits) != 1:
            r.add(rule, dep, f"expected one init container with args [\"migrate\"], found {len(inits)}")
            continue
        init = inits[0]
        if init.get("image") != main.get("image"):
            r.add(rule, dep, f"init container image {init.get('image')} is not the server's {main.get('image')}")
        if init.get("command"):
            r.add(rule, dep, "the migrate init container overrides the image's entrypoint (command)")
        for field in ("envFrom", "env", "volumeMounts"):
            if (init.get(field) or []) != (main.get(field) or []):
                r.add(rule, dep, f"the migrate init container's {field} differs from the server's")
        key = f"{SERVICES[svc]['prefix']}_AUTO_MIGRATE"
        if config_of(docs, main).get(key) != "false":
            r.add(rule, dep, f"{key} is not \"false\" for the server: migrations belong to the init container")


def rule_ingress_explicit_paths(docs, r: Report):
    rule = "ingress-explicit-paths"
    services = {name_of(s): s for s in kind(docs, "Service")}
    for s in services.values():
        for p in (s.get("spec") or {}).get("ports") or []:
            svc = SERVICES.get(name_of(s))
            if p.get("targetPort") == "management" or (svc and p.get("targetPort") == svc["management"]) \
                    or p.get("name") == "management":
                r.add(rule, s, f"port {p.get('name')} leads to the management port: no Service may")
    for ing in kind(docs, "Ingress"):
        spec = ing.get("spec") or {}
        allowed = INGRESS_PATHS.get(name_of(ing))
        public = spec.get("ingressClassName") == PUBLIC_INGRESS_CLASS
        if allowed is None:
            r.add(rule, ing, f"an Ingress this check does not know: add its paths to INGRESS_PATHS deliberately")
            allowed = set()
        if name_of(ing) == "operator" and public:
            r.add(rule, ing, f"the operator Ingress uses the public class {PUBLIC_INGRESS_CLASS}")
        if spec.get("defaultBackend"):
            r.add(rule, ing, "has a defaultBackend: every path it does not list would reach the service")
        for rl in spec.get("rules") or []:
            for p in ((rl.get("http") or {}).get("paths")) or []:
                path, ptype = p.get("path", ""), p.get("pathType", "")
                shown = f"{rl.get('host')}{path} ({ptype})"
                if ptype not in ("Prefix", "Exact"):
                    r.add(rule, ing, f"{shown}: only Prefix or Exact paths (ImplementationSpecific is a regex)")
                for f in NEVER_ROUTED:
                    if path_reaches(path, ptype, f):
                        r.add(rule, ing, f"{shown} routes {f}, which no Ingress may")
                if public:
                    for f in NOT_PUBLIC:
                        if path_reaches(path, ptype, f):
                            r.add(rule, ing, f"{shown} routes {f} on a public host (operator Ingress only)")
                if (path, ptype) not in allowed:
                    r.add(rule, ing, f"{shown} is not an allow-listed path of this Ingress")
                backend = (p.get("backend") or {}).get("service") or {}
                svc = services.get(backend.get("name"))
                port = backend.get("port") or {}
                if svc is None:
                    r.add(rule, ing, f"{shown}: backend Service {backend.get('name')} is not rendered")
                elif port.get("name") != "http":
                    r.add(rule, ing, f"{shown}: backend port must be the Service port named http, not {port}")


def rule_secrets_as_files(docs, r: Report, overlay: str):
    rule = "secrets-as-files"
    secrets = {name_of(s): s for s in kind(docs, "Secret")}
    for s in secrets.values():
        if not re.search(r"-[a-z0-9]{10}$", name_of(s)):
            r.add(rule, s, "not hash-named (secretGenerator): a change of it would not roll the pods")
    for dep in kind(docs, "Deployment"):
        svc = service_of(dep)
        ps = pod_spec(dep)
        volumes = {v.get("name"): v for v in ps.get("volumes") or []}
        for v in volumes.values():
            if "secret" in v:
                sname = v["secret"].get("secretName")
                if sname not in secrets:
                    r.add(rule, dep, f"volume {v['name']} mounts Secret {sname}, which the overlay does not "
                                     "generate (its changes would not roll the pods)")
                mode = v["secret"].get("defaultMode", 0o644)
                if mode & 0o007:
                    r.add(rule, dep, f"volume {v['name']}: defaultMode {oct(mode)} lets any user read the files")
        for c in all_containers(dep):
            cname = f"container {c.get('name')}"
            mounts = {m.get("mountPath", "").rstrip("/"): m for m in c.get("volumeMounts") or []}
            files = set()
            for ef in c.get("envFrom") or []:
                if "secretRef" in ef:
                    r.add(rule, dep, f"{cname}: envFrom secretRef turns a whole Secret into env values")
            for key in config_of(docs, {"envFrom": c.get("envFrom") or []}):
                if key in SECRET_SETTINGS or key.endswith("_FILE"):
                    r.add(rule, dep, f"{cname}: {key} comes from a ConfigMap")
            for e in c.get("env") or []:
                n = e.get("name", "")
                if n in SECRET_SETTINGS:
                    r.add(rule, dep, f"{cname}: {n} is an environment value; mount it and set {n}_FILE")
                    continue
                ref = (e.get("valueFrom") or {}).get("secretKeyRef")
                if ref:
                    s = secrets.get(ref.get("name"))
                    if s is None:
                        r.add(rule, dep, f"{cname}: {n} refers to Secret {ref.get('name')}, not generated here")
                    elif not ref.get("optional") and ref.get("key") not in (s.get("data") or {}):
                        r.add(rule, dep, f"{cname}: {n} needs key {ref.get('key')}, absent from {name_of(s)}")
                if not n.endswith("_FILE"):
                    continue
                base = n[: -len("_FILE")]
                if base not in SECRET_SETTINGS:
                    r.add(rule, dep, f"{cname}: {n}: the binaries accept no such setting")
                    continue
                path = str(e.get("value", ""))
                mount = mounts.get(posixpath.dirname(path))
                if not path.startswith("/") or mount is None:
                    r.add(rule, dep, f"{cname}: {n}={path} is not a file of a volume mounted in the container")
                    continue
                if not mount.get("readOnly"):
                    r.add(rule, dep, f"{cname}: {mount.get('mountPath')} is not mounted readOnly")
                vol = volumes.get(mount.get("name")) or {}
                if "secret" not in vol:
                    r.add(rule, dep, f"{cname}: {n} points into volume {mount.get('name')}, not a Secret volume")
                    continue
                s = secrets.get(vol["secret"].get("secretName"))
                fname = posixpath.basename(path)
                if vol["secret"].get("items"):
                    keys = {i.get("path"): i.get("key") for i in vol["secret"]["items"]}
                    fname = keys.get(fname, None) or ""
                if s is not None and fname not in (s.get("data") or {}):
                    r.add(rule, dep, f"{cname}: {n}: key {fname} is not in Secret {name_of(s)}")
                files.add(base)
            if c.get("name") == name_of(dep) and svc:
                need = set(REQUIRED_SECRET_FILES[svc])
                need |= REQUIRED_PER_OVERLAY.get(overlay, {}).get("files", {}).get(svc, set())
                for missing in sorted(need - files):
                    r.add(rule, dep, f"{cname}: {missing}_FILE is not set (required here)")
                for n in sorted(REQUIRED_PER_OVERLAY.get(overlay, {}).get("secret_env", {}).get(svc, set())):
                    ok = any(e.get("name") == n and ((e.get("valueFrom") or {}).get("secretKeyRef") or {})
                             .get("optional") is False for e in c.get("env") or [])
                    if not ok:
                        r.add(rule, dep, f"{cname}: {n} must come from the Secret with optional: false here")


def rule_version_and_managed_by_labels(docs, r: Report):
    rule = "version-and-managed-by-labels"
    versions = set()
    for d in docs:
        labels = (d.get("metadata") or {}).get("labels") or {}
        if not labels.get(VERSION_LABEL):
            r.add(rule, d, f"no {VERSION_LABEL} label")
        else:
            versions.add(labels[VERSION_LABEL])
        if labels.get(MANAGED_BY_LABEL) != "kustomize":
            r.add(rule, d, f"{MANAGED_BY_LABEL} is {labels.get(MANAGED_BY_LABEL)!r}, not 'kustomize'")
    if len(versions) > 1:
        r.add(rule, "(all objects)", f"several {VERSION_LABEL} values: {sorted(versions)}")
    for dep in kind(docs, "Deployment"):
        tl = (((dep.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels") or {}
        for lbl in (VERSION_LABEL, MANAGED_BY_LABEL):
            if lbl not in tl:
                r.add(rule, dep, f"the pod template has no {lbl} label")
        version = ((dep.get("metadata") or {}).get("labels") or {}).get(VERSION_LABEL)
        for c in all_containers(dep):
            if image_tag(c.get("image", "")) != version:
                r.add(rule, dep, f"container {c.get('name')}: image {c.get('image')} is not version {version}")
    selectors = []
    for d in docs:
        spec = d.get("spec") or {}
        if d.get("kind") in ("Deployment", "PodDisruptionBudget", "PodMonitor"):
            selectors.append((d, (spec.get("selector") or {}).get("matchLabels") or {}))
        elif d.get("kind") == "Service":
            selectors.append((d, spec.get("selector") or {}))
        elif d.get("kind") == "NetworkPolicy":
            selectors.append((d, (spec.get("podSelector") or {}).get("matchLabels") or {}))
    for d, sel in selectors:
        for k in sorted(set(sel) & OVERLAY_LABELS):
            r.add(rule, d, f"selector contains {k}: selectors are immutable and must not change per release")


def rule_probes_on_management_port(docs, r: Report):
    rule = "probes-on-management-port"
    for dep in kind(docs, "Deployment"):
        svc = service_of(dep)
        main = main_container(dep)
        if not svc or not main:
            continue
        ports = {p.get("name"): p.get("containerPort") for p in main.get("ports") or []}
        want = SERVICES[svc]["management"]
        if ports.get("management") != want:
            r.add(rule, dep, f"no container port named management = {want}")
        addr = config_of(docs, main).get(f"{SERVICES[svc]['prefix']}_MANAGEMENT_ADDR", "")
        if not addr.endswith(f":{want}"):
            r.add(rule, dep, f"{SERVICES[svc]['prefix']}_MANAGEMENT_ADDR={addr!r} does not listen on {want}")
        for probe, path in (("startupProbe", "/healthz"), ("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
            p = main.get(probe)
            if not p:
                r.add(rule, dep, f"no {probe}")
                continue
            get = p.get("httpGet") or {}
            if get.get("port") not in ("management", want):
                r.add(rule, dep, f"{probe} goes to port {get.get('port')}, not the management port")
            if get.get("path") != path:
                r.add(rule, dep, f"{probe} path {get.get('path')} is not {path}")
        annotations = (((dep.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("annotations") or {}
        for a in sorted(a for a in annotations if a.startswith("prometheus.io/")):
            r.add(rule, dep, f"pod annotation {a}: scraping is the monitoring component's PodMonitor")
        for c in pod_spec(dep).get("initContainers") or []:
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                if c.get(probe):
                    r.add(rule, dep, f"init container {c.get('name')} has a {probe}")


def _peer_is_monitoring(peer: dict) -> bool:
    ns = ((peer.get("namespaceSelector") or {}).get("matchLabels") or {})
    return ns.get("kubernetes.io/metadata.name") == MONITORING_NAMESPACE and not peer.get("ipBlock")


def rule_management_port_only_from_monitoring(docs, r: Report):
    rule = "management-port-only-from-monitoring"
    monitored = {((pm.get("spec") or {}).get("selector") or {}).get("matchLabels", {}).get("app.kubernetes.io/name")
                 for pm in kind(docs, "PodMonitor")}
    for dep in kind(docs, "Deployment"):
        svc = service_of(dep)
        if not svc:
            continue
        labels = ((((dep.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels")) or {}
        mgmt = SERVICES[svc]["management"]
        allowed_from_monitoring = False
        for np in kind(docs, "NetworkPolicy"):
            spec = np.get("spec") or {}
            if not selector_matches(spec.get("podSelector"), labels):
                continue
            for rl in spec.get("ingress") or []:
                ports = rl.get("ports") or []
                covers = not ports or any(p.get("port") in (mgmt, "management") or
                                          (isinstance(p.get("port"), int) and p.get("endPort")
                                           and p["port"] <= mgmt <= p["endPort"]) for p in ports)
                if not covers:
                    continue
                peers = rl.get("from") or []
                if not peers or not all(_peer_is_monitoring(p) for p in peers):
                    r.add(rule, np, f"lets {peers or 'anyone'} reach {svc}'s management port {mgmt}"
                                    f"{' (the rule names no ports)' if not ports else ''}")
                else:
                    allowed_from_monitoring = True
        if svc in monitored and not allowed_from_monitoring:
            r.add(rule, dep, f"a PodMonitor scrapes {svc} but no NetworkPolicy lets {MONITORING_NAMESPACE} reach port {mgmt}")


def rule_settings_consistent(docs, r: Report, overlay: str):
    rule = "settings-consistent"
    auth = by_name(docs, "Deployment", "auth-service")
    todo = by_name(docs, "Deployment", "todo-service")
    if not auth or not todo:
        r.add(rule, "(Deployments)", "auth-service and todo-service Deployments are both needed")
        return
    ac, tc = config_of(docs, main_container(auth) or {}), config_of(docs, main_container(todo) or {})
    if ac.get("AUTH_ISSUER") != tc.get("TODO_ISSUER"):
        r.add(rule, todo, f"TODO_ISSUER {tc.get('TODO_ISSUER')!r} != AUTH_ISSUER {ac.get('AUTH_ISSUER')!r}")
    hosts = {}
    for name in ("auth-service", "todo-service"):
        ing = by_name(docs, "Ingress", name)
        rules = ((ing or {}).get("spec") or {}).get("rules") or []
        hosts[name] = {rl.get("host") for rl in rules}
        tls = {h for t in ((ing or {}).get("spec") or {}).get("tls") or [] for h in t.get("hosts") or []}
        if ing and tls != hosts[name]:
            r.add(rule, ing, f"TLS hosts {sorted(tls)} differ from the rule hosts {sorted(hosts[name])}")
    issuer = ac.get("AUTH_ISSUER", "")
    if hosts["auth-service"] != {re.sub(r"^https://", "", issuer).rstrip("/")}:
        r.add(rule, auth, f"AUTH_ISSUER {issuer!r} is not https://<the auth Ingress host {sorted(hosts['auth-service'])}>")
    origins = {o.strip() for o in ac.get("AUTH_CORS_ORIGINS", "").split(",") if o.strip()}
    for h in hosts["todo-service"]:
        if f"https://{h}" not in origins:
            r.add(rule, auth, f"AUTH_CORS_ORIGINS {sorted(origins)} lacks https://{h}, the web client's origin")
    for svc, dep, cfg in (("auth-service", auth, ac), ("todo-service", todo, tc)):
        for key in sorted(REQUIRED_PER_OVERLAY.get(overlay, {}).get("settings", {}).get(svc, set())):
            if not cfg.get(key) or cfg.get(key) == "0":
                r.add(rule, dep, f"{key} must be set (non-zero) in {overlay}")


def rule_monitoring_objects_valid(docs, r: Report, schemas: dict):
    rule = "monitoring-objects-valid"
    for d in docs:
        api = str(d.get("apiVersion", ""))
        if not api.startswith(MONITORING_GROUP + "/"):
            continue
        schema = schemas.get((api, d.get("kind")))
        if schema is None:
            r.add(rule, d, f"no vendored schema for {api} {d.get('kind')}")
            continue
        for err in sorted(jsonschema.Draft4Validator(schema).iter_errors(d), key=lambda e: list(e.path)):
            r.add(rule, d, f"{'/'.join(str(p) for p in err.path) or '(root)'}: {err.message}")
        md = d.get("metadata") or {}
        if not md.get("namespace"):
            r.add(rule, d, "no namespace")
    deployments = {name_of(dep): dep for dep in kind(docs, "Deployment")}
    pms = kind(docs, "PodMonitor")
    if pms:
        for svc, dep in deployments.items():
            labels = ((((dep.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels")) or {}
            mine = [pm for pm in pms if selector_matches((pm.get("spec") or {}).get("selector"), labels)]
            if len(mine) != 1:
                r.add(rule, dep, f"{len(mine)} PodMonitors select its pods (one expected)")
                continue
            spec = mine[0].get("spec") or {}
            if spec.get("jobLabel") != "app.kubernetes.io/name":
                r.add(rule, mine[0], "jobLabel is not app.kubernetes.io/name: the alerts select job=<service>")
            for ep in spec.get("podMetricsEndpoints") or []:
                if ep.get("port") != "management" or ep.get("path", "/metrics") != "/metrics":
                    r.add(rule, mine[0], f"scrapes port {ep.get('port')} path {ep.get('path')}, not management /metrics")
        if not kind(docs, "PrometheusRule"):
            r.add(rule, "(monitoring)", "PodMonitors without the PrometheusRule")


def _walk_selectors(expr) -> Iterable[tuple[str, Any, list]]:
    """(kind, node, labels) for vector selectors and grouping/matching label lists."""
    found: list = []

    def visit(node):
        t = type(node).__name__
        if t == "VectorSelector":
            found.append(("selector", node, []))
        elif t == "AggregateExpr" and node.modifier is not None:
            found.append(("grouping", node, list(node.modifier.labels)))
        elif t == "BinaryExpr" and node.modifier is not None and node.modifier.matching is not None:
            found.append(("grouping", node, list(node.modifier.matching.labels)))
        return True

    promql_parser.walk(expr, visit)
    return found


def _alternatives(value: str) -> list[str]:
    return value.split("|")


def check_expr(text: str) -> tuple[list[str], list[tuple[str, dict]]]:
    """Problems in one PromQL expression, and the (metric, {label: values}) it selects."""
    problems: list[str] = []
    selected: list[tuple[str, dict]] = []
    try:
        expr = promql_parser.parse(text)
    except Exception as e:  # noqa: BLE001 - the parser raises ValueError, say what it said
        return [f"does not parse: {e}"], selected
    all_labels = set(TARGET_LABELS).union(*(m["labels"] for m in METRICS.values()))
    for what, node, labels in _walk_selectors(expr):
        if what == "grouping":
            for lbl in labels:
                if lbl not in all_labels:
                    problems.append(f"groups or matches on unknown label {lbl!r}")
            continue
        name = node.name
        if name not in METRICS:
            problems.append(f"metric {name!r} is not one the binaries expose")
            continue
        known = METRICS[name]["labels"] | TARGET_LABELS
        values: dict[str, set] = {}
        has_job = False
        for m in node.matchers.matchers:
            op = str(m.op)
            if m.name == "__name__":
                continue
            if m.name not in known:
                problems.append(f"{name}: unknown label {m.name!r}")
                continue
            alts = set(_alternatives(m.value)) if ("Re" in op) else {m.value}
            if "Not" in op:
                continue
            values[m.name] = alts
            if m.name == "job":
                has_job = True
                for j in alts:
                    if j not in METRICS[name]["jobs"]:
                        problems.append(f"{name}: job {j!r} does not expose it")
            enum = LABEL_VALUES.get((name, m.name))
            if enum:
                for v in alts:
                    if v not in enum:
                        problems.append(f"{name}: {m.name}={v!r} is not one of {sorted(enum)}")
        if not has_job:
            problems.append(f"{name}: no job matcher (it would match other applications' series)")
        selected.append((name, values))
    return problems, selected


def rule_alerts_metrics_and_runbooks(docs, r: Report, operations: str):
    rule = "alerts-metrics-and-runbooks"
    section = re.search(r"^## Alerts\s*$(.*?)(?=^## |\Z)", operations, re.M | re.S)
    documented = {}
    if not section:
        r.add(rule, "docs/OPERATIONS.md", "no section \"## Alerts\"")
    else:
        for h in re.findall(r"^### +(.+?)\s*$", section.group(1), re.M):
            documented[github_anchor(h.strip("` "))] = h
    alerts = {}
    covered = set()
    for pr in kind(docs, "PrometheusRule"):
        for g in (pr.get("spec") or {}).get("groups") or []:
            for rl in g.get("rules") or []:
                name = rl.get("alert") or rl.get("record")
                problems, selected = check_expr(str(rl.get("expr", "")))
                for p in problems:
                    r.add(rule, pr, f"{name}: {p}")
                for cov, (metric, label, value) in REQUIRED_ALERT_COVERAGE.items():
                    for m, vals in selected:
                        if m == metric and (label is None or (label in vals and (value is None or value in vals[label]))):
                            covered.add(cov)
                if "alert" not in rl:
                    continue
                if name in alerts:
                    r.add(rule, pr, f"alert {name} defined twice")
                alerts[name] = rl
                if (rl.get("labels") or {}).get("severity") not in ("warning", "critical"):
                    r.add(rule, pr, f"{name}: severity label must be warning or critical")
                ann = rl.get("annotations") or {}
                for a in ("summary", "description"):
                    if not ann.get(a):
                        r.add(rule, pr, f"{name}: no {a} annotation")
                want = f"docs/OPERATIONS.md#{github_anchor(name)}"
                if ann.get("runbook") != want:
                    r.add(rule, pr, f"{name}: runbook annotation is {ann.get('runbook')!r}, not {want!r}")
                if section and github_anchor(name) not in documented:
                    r.add(rule, pr, f"{name}: no \"### {name}\" in the Alerts section of docs/OPERATIONS.md")
    if kind(docs, "PrometheusRule"):
        for cov in sorted(set(REQUIRED_ALERT_COVERAGE) - covered):
            r.add(rule, "(PrometheusRule)", f"no alert covers {cov}")
        for anchor, h in sorted(documented.items()):
            if anchor not in {github_anchor(a) for a in alerts}:
                r.add(rule, "docs/OPERATIONS.md", f"\"### {h}\" documents no alert that exists")


def check_overlay(overlay: str, docs: list[dict], schemas: dict, operations: str) -> list[Violation]:
    r = Report(overlay)
    rule_no_replicas_under_hpa(docs, r)
    rule_migrations_in_init_containers(docs, r)
    rule_ingress_explicit_paths(docs, r)
    rule_secrets_as_files(docs, r, overlay)
    rule_version_and_managed_by_labels(docs, r)
    rule_probes_on_management_port(docs, r)
    rule_management_port_only_from_monitoring(docs, r)
    rule_settings_consistent(docs, r, overlay)
    rule_monitoring_objects_valid(docs, r, schemas)
    rule_alerts_metrics_and_runbooks(docs, r, operations)
    return r.violations


# --- Rules on the kustomize sources ---------------------------------------------------------------

def _patch_ops(text: str) -> list:
    try:
        return [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError:
        return []


def check_sources(kustomizations: dict[str, dict], read: Callable[[str], str]) -> list[Violation]:
    """kustomizations: {path of kustomization.yaml: its content}; read(path) gives a patch file."""
    out: list[Violation] = []
    for kpath, k in sorted(kustomizations.items()):
        kdir = posixpath.dirname(kpath)
        where = f"source {kpath}"
        if "replicas" in k:
            out.append(Violation("no-replicas-under-hpa", where, "a `replicas:` field: the HPAs own the counts"))
        entries = []
        for p in k.get("patches") or []:
            entries.append((p.get("target"), p.get("patch") if "patch" in p else read(posixpath.join(kdir, p["path"]))))
        for p in k.get("patchesJson6902") or []:
            entries.append((p.get("target"), p.get("patch") if "patch" in p else read(posixpath.join(kdir, p["path"]))))
        for p in k.get("patchesStrategicMerge") or []:
            entries.append((None, p if "\n" in p else read(posixpath.join(kdir, p))))
        for target, text in entries:
            docs = _patch_ops(text or "")
            json_patch = len(docs) == 1 and isinstance(docs[0], list)
            if json_patch:
                kinds = {target.get("kind")} if target and target.get("kind") else {None}
            else:
                kinds = {d.get("kind") for d in docs if isinstance(d, dict)}
                if target and target.get("kind"):
                    kinds = {target["kind"]}
            if not (kinds & {"NetworkPolicy", None}):
                continue
            if json_patch:
                for op in docs[0]:
                    for field in ("path", "from"):
                        segs = str(op.get(field, "")).split("/") if op.get(field) else []
                        if any(s.isdigit() or s == "-" for s in segs):
                            out.append(Violation(
                                "networkpolicy-patches-without-indexes", where,
                                f"a JSON patch that may apply to NetworkPolicies uses a list index ({op.get(field)}): "
                                "replace the whole rule of a per-allowance policy by name instead"))
    return out


# --- Self-test: every rule fails when broken ------------------------------------------------------

def _dep(docs, name):
    return by_name(docs, "Deployment", name)


def _main(docs, name):
    return main_container(_dep(docs, name))


def _mutations() -> list[tuple[str, str, Callable[[list[dict]], None]]]:
    def set_replicas(d):
        _dep(d, "todo-service")["spec"]["replicas"] = 3

    def drop_hpa(d):
        d.remove(by_name(d, "HorizontalPodAutoscaler", "auth-service"))

    def add_job(d):
        d.append({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "auth-service-migrate", "labels": {}}})

    def drop_init(d):
        pod_spec(_dep(d, "auth-service"))["initContainers"] = []

    def init_env_differs(d):
        pod_spec(_dep(d, "todo-service"))["initContainers"][0]["env"] = []

    def root_prefix(d):
        by_name(d, "Ingress", "todo-service")["spec"]["rules"][0]["http"]["paths"][0]["path"] = "/"

    def metrics_path(d):
        paths = by_name(d, "Ingress", "auth-service")["spec"]["rules"][0]["http"]["paths"]
        paths.append(copy.deepcopy(paths[0]) | {"path": "/metrics", "pathType": "Exact"})

    def api_prefix(d):
        by_name(d, "Ingress", "auth-service")["spec"]["rules"][0]["http"]["paths"][0]["path"] = "/api"

    def service_management(d):
        by_name(d, "Service", "todo-service")["spec"]["ports"].append(
            {"name": "management", "port": 9091, "targetPort": "management"})

    def env_secret(d):
        env = _main(d, "auth-service")["env"]
        for e in env:
            if e["name"] == "AUTH_DATABASE_URL_FILE":
                e.clear()
                e.update({"name": "AUTH_DATABASE_URL", "valueFrom": {"secretKeyRef": {"name": "x", "key": "y"}}})

    def file_outside_mount(d):
        for e in _main(d, "todo-service")["env"]:
            if e["name"] == "TODO_DATABASE_URL_FILE":
                e["value"] = "/tmp/TODO_DATABASE_URL"

    def writable_mount(d):
        _main(d, "todo-service")["volumeMounts"][0]["readOnly"] = False

    def unhashed_secret(d):
        s = kind(d, "Secret")[0]
        s["metadata"]["name"] = "auth-secrets"

    def drop_version(d):
        del by_name(d, "Service", "auth-service")["metadata"]["labels"][VERSION_LABEL]

    def wrong_tag(d):
        _main(d, "auth-service")["image"] = "ghcr.io/example/auth-service:9.9.9"

    def version_in_selector(d):
        by_name(d, "Service", "todo-service")["spec"]["selector"][VERSION_LABEL] = "0.1.0"

    def probe_http(d):
        _main(d, "auth-service")["readinessProbe"]["httpGet"]["port"] = "http"

    def open_management(d):
        np = copy.deepcopy(by_name(d, "NetworkPolicy", "auth-service"))
        np["metadata"]["name"] = "auth-service-open"
        np["spec"]["ingress"][0].pop("ports")
        d.append(np)

    def issuer_mismatch(d):
        cm_name = _main(d, "todo-service")["envFrom"][0]["configMapRef"]["name"]
        by_name(d, "ConfigMap", cm_name)["data"]["TODO_ISSUER"] = "https://elsewhere.example.com"

    def podmonitor_typo(d):
        pm = by_name(d, "PodMonitor", "todo-service")
        pm["spec"]["podMetricsEndpoints"][0]["prot"] = pm["spec"]["podMetricsEndpoints"][0].pop("port")

    def metric_typo(d):
        rl = by_name(d, "PrometheusRule", "todo-app")["spec"]["groups"][0]["rules"][0]
        rl["expr"] = rl["expr"].replace("http_requests_total", "http_request_total", 1)

    def label_value_typo(d):
        for g in by_name(d, "PrometheusRule", "todo-app")["spec"]["groups"]:
            for rl in g["rules"]:
                rl["expr"] = rl["expr"].replace('outcome="limited"', 'outcome="throttled"')

    def runbook_missing(d):
        rl = by_name(d, "PrometheusRule", "todo-app")["spec"]["groups"][0]["rules"][0]
        rl["alert"] = "SomethingUndocumented"

    return [
        ("no-replicas-under-hpa", "spec.replicas on a Deployment", set_replicas),
        ("no-replicas-under-hpa", "a Deployment without HPA", drop_hpa),
        ("migrations-in-init-containers", "a migration Job", add_job),
        ("migrations-in-init-containers", "no migrate init container", drop_init),
        ("migrations-in-init-containers", "init container env differs", init_env_differs),
        ("ingress-explicit-paths", "an Ingress path /", root_prefix),
        ("ingress-explicit-paths", "an Ingress path /metrics", metrics_path),
        ("ingress-explicit-paths", "an Ingress prefix /api (reaches /api/admin)", api_prefix),
        ("ingress-explicit-paths", "a Service port to the management port", service_management),
        ("secrets-as-files", "a secret as an env value", env_secret),
        ("secrets-as-files", "a *_FILE outside any mount", file_outside_mount),
        ("secrets-as-files", "a writable secret mount", writable_mount),
        ("secrets-as-files", "a Secret without hash suffix", unhashed_secret),
        ("version-and-managed-by-labels", "an object without version label", drop_version),
        ("version-and-managed-by-labels", "an image tag unlike the version", wrong_tag),
        ("version-and-managed-by-labels", "the version label in a selector", version_in_selector),
        ("probes-on-management-port", "readiness on the http port", probe_http),
        ("management-port-only-from-monitoring", "an ingress rule without ports", open_management),
        ("settings-consistent", "TODO_ISSUER unlike AUTH_ISSUER", issuer_mismatch),
        ("monitoring-objects-valid", "an unknown PodMonitor field", podmonitor_typo),
        ("alerts-metrics-and-runbooks", "a misspelt metric", metric_typo),
        ("alerts-metrics-and-runbooks", "an impossible label value", label_value_typo),
        ("alerts-metrics-and-runbooks", "an undocumented alert", runbook_missing),
    ]


def self_test(overlay: str, docs: list[dict], schemas: dict, operations: str) -> list[str]:
    failures: list[str] = []
    proven: list[str] = []
    baseline = {(v.rule, v.where, v.message) for v in check_overlay(overlay, docs, schemas, operations)}
    for rule, what, mutate in _mutations():
        broken = copy.deepcopy(docs)
        try:
            mutate(broken)
        except (KeyError, IndexError, TypeError, AttributeError, ValueError) as e:
            failures.append(f"self-test {rule} ({what}): the mutation no longer applies ({e!r})")
            continue
        found = [v for v in check_overlay(overlay, broken, schemas, operations)
                 if (v.rule, v.where, v.message) not in baseline]
        if not any(v.rule == rule for v in found):
            failures.append(f"self-test {rule} ({what}): the rule did not fail on a broken copy")
        else:
            proven.append(what)
    bad = {"k8s/overlays/x/kustomization.yaml": {
        "patches": [{"target": {"kind": "NetworkPolicy", "name": "auth-service-to-database"},
                     "patch": "- op: replace\n  path: /spec/egress/0/to\n  value: []\n"}]}}
    if not any(v.rule == "networkpolicy-patches-without-indexes" for v in check_sources(bad, lambda p: "")):
        failures.append("self-test networkpolicy-patches-without-indexes: an indexed patch passed")
    else:
        proven.append("a NetworkPolicy JSON patch with a list index")
    untargeted = {"k8s/overlays/x/kustomization.yaml": {
        "patches": [{"patch": "- op: remove\n  path: /spec/ingress/1\n"}]}}
    if not any(v.rule == "networkpolicy-patches-without-indexes" for v in check_sources(untargeted, lambda p: "")):
        failures.append("self-test networkpolicy-patches-without-indexes: an untargeted indexed patch passed")
    else:
        proven.append("an untargeted JSON patch with a list index")
    print(f"    self-test {overlay}: each of {len(proven)} broken copies failed its rule "
          f"({'; '.join(proven)})")
    return failures


# --- Main -----------------------------------------------------------------------------------------

def strict(schema: Any) -> Any:
    """The CRD schema with unknown fields rejected wherever the CRD lists the fields."""
    if isinstance(schema, dict):
        out = {k: strict(v) for k, v in schema.items()}
        if "properties" in out and "additionalProperties" not in out \
                and not out.get("x-kubernetes-preserve-unknown-fields"):
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [strict(v) for v in schema]
    return schema


def load_schemas(folder: str) -> dict:
    schemas = {}
    for f in sorted(glob.glob(os.path.join(folder, "*.yaml"))):
        with open(f, encoding="utf-8") as fh:
            crd = yaml.safe_load(fh)
        group = crd["spec"]["group"]
        for v in crd["spec"]["versions"]:
            s = strict(v["schema"]["openAPIV3Schema"])
            s.setdefault("properties", {})["metadata"] = {"type": "object"}
            schemas[(f"{group}/{v['name']}", crd["spec"]["names"]["kind"])] = s
    return schemas


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rendered", required=True)
    ap.add_argument("--k8s", required=True)
    ap.add_argument("--schemas", required=True)
    ap.add_argument("--operations", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    schemas = load_schemas(args.schemas)
    if not schemas:
        print(f"no CRD schemas in {args.schemas}", file=sys.stderr)
        return 1
    with open(args.operations, encoding="utf-8") as fh:
        operations = fh.read()

    violations: list[Violation] = []
    failures: list[str] = []
    overlays = sorted(f[:-5] for f in os.listdir(args.rendered) if f.endswith(".yaml"))
    if not overlays:
        print(f"nothing rendered in {args.rendered}", file=sys.stderr)
        return 1
    for overlay in overlays:
        with open(os.path.join(args.rendered, overlay + ".yaml"), encoding="utf-8") as fh:
            docs = [d for d in yaml.safe_load_all(fh) if d]
        failures += self_test(overlay, docs, schemas, operations)
        violations += check_overlay(overlay, docs, schemas, operations)
        core = [d for d in docs if not str(d.get("apiVersion", "")).startswith(MONITORING_GROUP + "/")]
        with open(os.path.join(args.out, overlay + ".core.yaml"), "w", encoding="utf-8") as fh:
            yaml.safe_dump_all(core, fh, sort_keys=False)
        groups = [g for pr in kind(docs, "PrometheusRule") for g in (pr.get("spec") or {}).get("groups") or []]
        os.makedirs(os.path.join(args.out, overlay), exist_ok=True)
        with open(os.path.join(args.out, overlay, "todo-app.rules.yaml"), "w", encoding="utf-8") as fh:
            yaml.safe_dump({"groups": groups}, fh, sort_keys=False)
        # For `promtool test rules`: the same rules without annotations (the tests compare labels).
        bare = copy.deepcopy(groups)
        for g in bare:
            for rl in g.get("rules") or []:
                rl.pop("annotations", None)
        with open(os.path.join(args.out, overlay, "todo-app.test-rules.yaml"), "w", encoding="utf-8") as fh:
            yaml.safe_dump({"groups": bare}, fh, sort_keys=False)
        print(f"    {overlay}: {len(docs)} objects checked ({len(core)} built-in, "
              f"{len(docs) - len(core)} monitoring.coreos.com), {len(groups)} rule groups")

    kustomizations = {}
    for f in sorted(glob.glob(os.path.join(args.k8s, "**", "kustomization.yaml"), recursive=True)):
        rel = os.path.relpath(f, os.path.dirname(os.path.abspath(args.k8s)))
        with open(f, encoding="utf-8") as fh:
            kustomizations[rel.replace(os.sep, "/")] = yaml.safe_load(fh) or {}
    root = os.path.dirname(os.path.abspath(args.k8s))

    def read(rel: str) -> str:
        with open(os.path.join(root, rel), encoding="utf-8") as fh:
            return fh.read()

    violations += check_sources(kustomizations, read)
    print(f"    sources: {len(kustomizations)} kustomizations checked")

    for f in failures:
        print(f"    {f}", file=sys.stderr)
    for v in violations:
        print(f"    {v}", file=sys.stderr)
    if failures or violations:
        print(f"    {len(violations)} violation(s), {len(failures)} self-test failure(s)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
