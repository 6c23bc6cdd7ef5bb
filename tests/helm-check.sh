#!/usr/bin/env bash
# Offline check of the Helm chart in helm/: for the chart's defaults and every
# values combination in helm/ci/*.yaml, validate the values against
# values.schema.json, lint the chart, render it (install and upgrade) and
# validate every rendered manifest against the Kubernetes ${KUBE_VERSION}
# OpenAPI schemas in strict mode (unknown fields fail). Negative tests: the
# schema rejects bad values, and the chart refuses to render without a
# database. No cluster, no helm binary, no network beyond PyPI for the venv.
#
#   tests/helm-check.sh            # KUBE_VERSION=1.30.0 by default
set -euo pipefail
cd "$(dirname "$0")/.."

KUBE_VERSION="${KUBE_VERSION:-1.30.0}"
VENV="${LOGBUCH_HELM_VENV:-${TMPDIR:-/tmp}/logbuch-helm-venv}"
# helm-python-sdk bundles the Helm v4 Go SDK (libhelm_c) in its wheel;
# kubernetes-validate ships the Kubernetes JSON schemas (1.25 … 1.37).
PINS=(helm-python-sdk==0.2.2 kubernetes-validate==1.37.0 PyYAML==6.0.3)

if ! "$VENV/bin/python" -c '' 2>/dev/null; then
  rm -rf "$VENV"   # absent, or left by a Python that is gone
  python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python" - "${PINS[@]}" <<'EOF' 2>/dev/null; then
import sys
from importlib.metadata import version
sys.exit(any(version(n) != v for n, v in (p.split("==") for p in sys.argv[1:])))
EOF
  "$VENV/bin/pip" install -q --disable-pip-version-check "${PINS[@]}"
fi

exec "$VENV/bin/python" - helm "$KUBE_VERSION" <<'EOF'
import glob
import os
import sys

import helm_python as helm
import kubernetes_validate
import yaml

chart_dir, kube_version = sys.argv[1], sys.argv[2]
RELEASE, NAMESPACE = "logbuch", "logbuch"
ALLOWED_API = {"v1", "apps/v1", "batch/v1", "policy/v1", "networking.k8s.io/v1", "autoscaling/v2"}
passed, failed = 0, 0


class Failure(Exception):
    pass


def report(ok, name, detail):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
    print(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}", flush=True)


def documents(manifests):
    """(template, object) for every YAML document rendered."""
    for template, text in sorted(manifests.items()):
        if not template.endswith((".yaml", ".yml")):
            continue  # NOTES.txt
        for doc in yaml.safe_load_all(text):
            if doc:
                yield template, doc


def hook_info(obj):
    annotations = obj["metadata"].get("annotations") or {}
    hooks = set(filter(None, annotations.get("helm.sh/hook", "").split(",")))
    return hooks, int(annotations.get("helm.sh/hook-weight", "0"))


def pod_specs(obj):
    if obj["kind"] in ("Deployment", "Job"):
        yield obj["spec"]["template"]["spec"]


def check_invariants(objs):
    """Chart rules the Kubernetes schemas cannot know."""
    seen = set()
    by_kind = {}
    for _, o in objs:
        key = (o["kind"], o["metadata"]["name"])
        if key in seen:
            raise Failure(f"{key[0]}/{key[1]} rendered twice")
        seen.add(key)
        by_kind.setdefault(o["kind"], {})[o["metadata"]["name"]] = o
        if o["apiVersion"] not in ALLOWED_API:
            raise Failure(f"{o['kind']}/{o['metadata']['name']}: apiVersion {o['apiVersion']} not allowed")
        if o["kind"] == "ConfigMap":
            for k, v in (o.get("data") or {}).items():
                if any(s in v for s in ("postgres://", "postgresql://", "redis://", "rediss://")):
                    raise Failure(f"ConfigMap/{o['metadata']['name']}: credentials in {k}")
        for spec in pod_specs(o):
            name = f"{o['kind']}/{o['metadata']['name']}"
            psc = spec.get("securityContext") or {}
            if not psc.get("runAsNonRoot") or (psc.get("seccompProfile") or {}).get("type") != "RuntimeDefault":
                raise Failure(f"{name}: pod must run as non-root with the RuntimeDefault seccomp profile")
            for c in spec["containers"]:
                sc = c.get("securityContext") or {}
                if not (sc.get("readOnlyRootFilesystem") and sc.get("allowPrivilegeEscalation") is False
                        and "ALL" in ((sc.get("capabilities") or {}).get("drop") or [])):
                    raise Failure(f"{name}: container {c['name']} lacks the restricted securityContext")
                if not c.get("resources"):
                    raise Failure(f"{name}: container {c['name']} has no resources")
    deployments = by_kind.get("Deployment", {})
    args = sorted(" ".join(d["spec"]["template"]["spec"]["containers"][0].get("args", [])) for d in deployments.values())
    if args != ["serve --no-workers --skip-migrations", "worker"]:
        raise Failure(f"expected an HTTP and a worker Deployment, got {args}")
    for d in deployments.values():
        c = d["spec"]["template"]["spec"]["containers"][0]
        if c["args"][0] == "serve":
            probes = (c.get("livenessProbe", {}).get("httpGet", {}).get("path"),
                      c.get("readinessProbe", {}).get("httpGet", {}).get("path"))
            if probes != ("/healthz", "/readyz"):
                raise Failure(f"HTTP probes are {probes}, expected /healthz and /readyz")
    # The migration Job is a pre-install hook: everything it needs from this
    # chart must be a hook too (with a lower weight), or a fresh install fails.
    for job in by_kind.get("Job", {}).values():
        hooks, weight = hook_info(job)
        if not {"pre-install", "pre-upgrade"} <= hooks:
            raise Failure(f"Job/{job['metadata']['name']} is not a pre-install/pre-upgrade hook")
        spec = job["spec"]["template"]["spec"]
        needs = [("ServiceAccount", spec.get("serviceAccountName"))]
        for c in spec["containers"]:
            for e in c.get("env", []):
                ref = (e.get("valueFrom") or {}).get("secretKeyRef")
                if ref:
                    needs.append(("Secret", ref["name"]))
            for e in c.get("envFrom", []):
                if "secretRef" in e:
                    needs.append(("Secret", e["secretRef"]["name"]))
                if "configMapRef" in e:
                    needs.append(("ConfigMap", e["configMapRef"]["name"]))
        for v in spec.get("volumes", []):
            if "configMap" in v:
                needs.append(("ConfigMap", v["configMap"]["name"]))
            if "secret" in v:
                needs.append(("Secret", v["secret"]["secretName"]))
        for kind, name in needs:
            dep = by_kind.get(kind, {}).get(name)
            if dep is None:
                continue  # not from this chart (existing Secret/ConfigMap, default SA)
            dep_hooks, dep_weight = hook_info(dep)
            if "pre-install" not in dep_hooks or dep_weight >= weight:
                raise Failure(f"Job/{job['metadata']['name']} needs {kind}/{name}, which is no earlier pre-install hook")
    return by_kind


def check(chart, name, values):
    chart.validate_schema(values)
    lint = helm.lint(chart_dir, values, strict=True, namespace=NAMESPACE, kube_version="v" + kube_version)
    problems = [f"{m['path']}: {m['error']}" for m in lint["messages"] if m["severity"] >= 2] + lint["errors"]
    if problems:
        raise Failure("lint: " + "; ".join(problems))
    count = 0
    for mode in ({"is_install": True, "revision": 1}, {"is_upgrade": True, "revision": 2}):
        manifests = chart.render(values, name=RELEASE, namespace=NAMESPACE, **mode)
        objs = list(documents(manifests))
        for template, o in objs:
            try:
                kubernetes_validate.validate(o, kube_version, strict=True)
            except kubernetes_validate.ValidationError as e:
                path = ".".join(str(p) for p in e.path)
                raise Failure(f"{template}: {o['kind']}/{o['metadata']['name']}: {path}: {e.message}")
            except kubernetes_validate.SchemaNotFoundError as e:
                raise Failure(f"{template}: {e.message}")
        by_kind = check_invariants(objs)
        count = len(objs)
    kinds = ", ".join(f"{len(v)} {k}" for k, v in sorted(by_kind.items()))
    return f"schema, lint, render, k8s {kube_version} strict: {count} manifests ({kinds})"


def expect_failure(name, what, fn, needle):
    try:
        fn()
    except helm.HelmError as e:
        lines = [line.strip() for line in str(e).splitlines() if needle in line]
        ok = bool(lines)
        report(ok, name, f"{what} refused as expected: {lines[0][:200]}" if ok
               else f"{what} refused, but not with '{needle}': {e}")
        return
    report(False, name, f"{what} was accepted, expected a refusal mentioning '{needle}'")


print(f"helm-check: Helm SDK {helm.helm_sdk_version()} (helm-python-sdk, libhelm_c {helm.helm_c_version()}), "
      f"kubernetes-validate {kubernetes_validate.__version__ if hasattr(kubernetes_validate, '__version__') else ''}, "
      f"Kubernetes {kube_version}", flush=True)
with helm.Chart.load(chart_dir) as chart:
    files = sorted(glob.glob(os.path.join(chart_dir, "ci", "*.yaml")))
    if not files:
        report(False, "helm/ci", "no values files found")
    for path in files:
        name = os.path.relpath(path)
        with open(path) as f:
            values = yaml.safe_load(f) or {}
        try:
            report(True, name, check(chart, name, values))
        except (Failure, helm.HelmError) as e:
            report(False, name, str(e))

    # Negative tests.
    expect_failure("defaults (no database)", "render", lambda: chart.render(
        {}, name=RELEASE, namespace=NAMESPACE, is_install=True), "database.url")
    expect_failure("redis enabled without URL", "render", lambda: chart.render(
        {"database": {"url": "postgres://u:p@db/logbuch"}}, name=RELEASE, namespace=NAMESPACE,
        is_install=True), "redis.url")
    expect_failure("no audit signing key", "render", lambda: chart.render(
        {"database": {"url": "postgres://u:p@db/logbuch"}, "redis": {"url": "redis://r:6379"},
         "pgp": {"secret": "x" * 40}}, name=RELEASE, namespace=NAMESPACE, is_install=True), "audit.signingKey")
    bad = {"database": {"url": "postgres://u:p@db/logbuch"}, "redis": {"url": "redis://r:6379"},
           "http": {"replicaCount": "drei"}}
    expect_failure("bad values (http.replicaCount: drei)", "values.schema.json",
                   lambda: chart.validate_schema(bad), "replicaCount")
    expect_failure("bad values (http.replicaCount: drei)", "render",
                   lambda: chart.render(bad, name=RELEASE, namespace=NAMESPACE), "replicaCount")
    typo = {"database": {"url": "postgres://u:p@db/logbuch"}, "redis": {"url": "redis://r:6379"},
            "smtp": {"security": "ssl"}, "ingres": {"enabled": True}}
    expect_failure("bad values (smtp.security: ssl, key 'ingres')", "values.schema.json",
                   lambda: chart.validate_schema(typo), "ingres")

print(f"helm-check: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
EOF
