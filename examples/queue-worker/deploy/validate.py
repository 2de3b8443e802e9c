"""Validates the deployment offline.

Kubernetes objects against the API schemas bundled with kubernetes-validate (strict: unknown
fields fail); KEDA objects against schemas/keda.json; then the references between objects:
selectors, ConfigMap/Secret names, scale targets, Secret keys, ports, and the Grafana
dashboard's structure.

    python validate.py            # from examples/queue-worker/deploy
"""

import json
import pathlib
import sys

import jsonschema
import kubernetes_validate
import yaml

HERE = pathlib.Path(__file__).resolve().parent
K8S_VERSION = "1.33.0"
failures = []


def fail(msg):
    failures.append(msg)
    print(f"FAIL {msg}")


def load():
    docs = []
    for path in sorted((HERE / "k8s").rglob("*.yaml")):
        if path.name == "kustomization.yaml":
            kust = yaml.safe_load(path.read_text())
            for res in kust["resources"]:
                if not (path.parent / res).exists():
                    fail(f"{path.name}: resource {res} does not exist")
            continue
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                docs.append((path.relative_to(HERE), doc))
    return docs


def main():
    docs = load()
    keda = json.loads((HERE / "schemas" / "keda.json").read_text())
    for path, doc in docs:
        name = f"{path}: {doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
        try:
            if doc.get("apiVersion", "").startswith("keda.sh/"):
                jsonschema.validate(doc, keda)
            else:
                kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
            print(f"ok   {name}")
        except (jsonschema.ValidationError, kubernetes_validate.ValidationError) as e:
            fail(f"{name}: {getattr(e, 'message', e)}")
        except kubernetes_validate.SchemaNotFoundError as e:
            fail(f"{name}: no schema ({e})")

    by_kind = {}
    for _, doc in docs:
        by_kind.setdefault(doc["kind"], {})[doc["metadata"]["name"]] = doc
    namespaces = set(by_kind.get("Namespace", {}))
    for _, doc in docs:
        ns = doc["metadata"].get("namespace")
        if doc["kind"] != "Namespace" and ns not in namespaces:
            fail(f"{doc['kind']}/{doc['metadata']['name']}: namespace {ns} is not defined")

    workloads = {**by_kind.get("Deployment", {}), **by_kind.get("StatefulSet", {})}
    secrets = by_kind.get("Secret", {})
    for name, w in workloads.items():
        labels = w["spec"]["template"]["metadata"]["labels"]
        for k, v in w["spec"]["selector"]["matchLabels"].items():
            if labels.get(k) != v:
                fail(f"{name}: selector {k}={v} does not match the pod labels")
        for c in w["spec"]["template"]["spec"]["containers"]:
            for src in c.get("envFrom", []):
                ref = src.get("configMapRef") or src.get("secretRef")
                kind = "ConfigMap" if "configMapRef" in src else "Secret"
                if ref["name"] not in by_kind.get(kind, {}):
                    fail(f"{name}: {kind} {ref['name']} is not defined")
            ports = {p["name"] for p in c.get("ports", [])}
            for probe in ("readinessProbe", "livenessProbe"):
                port = c.get(probe, {}).get("httpGet", {}).get("port")
                if isinstance(port, str) and port not in ports:
                    fail(f"{name}: {probe} uses undefined port {port}")
    for name, svc in by_kind.get("Service", {}).items():
        sel = svc["spec"]["selector"]
        if not any(all(w["spec"]["template"]["metadata"]["labels"].get(k) == v for k, v in sel.items())
                   for w in workloads.values()):
            fail(f"Service {name}: selector {sel} matches no workload")
    for name, ing in by_kind.get("Ingress", {}).items():
        for rule in ing["spec"]["rules"]:
            for p in rule["http"]["paths"]:
                if p["backend"]["service"]["name"] not in by_kind.get("Service", {}):
                    fail(f"Ingress {name}: backend service missing")
    for kind in ("ScaledObject", "HorizontalPodAutoscaler"):
        for name, so in by_kind.get(kind, {}).items():
            target = so["spec"]["scaleTargetRef"]["name"]
            if target not in by_kind.get("Deployment", {}):
                fail(f"{kind} {name}: scale target {target} is not a Deployment here")
    for name, ta in by_kind.get("TriggerAuthentication", {}).items():
        for ref in ta["spec"].get("secretTargetRef", []):
            if ref["key"] not in secrets.get(ref["name"], {}).get("stringData", {}):
                fail(f"TriggerAuthentication {name}: secret {ref['name']} has no key {ref['key']}")
    for name, so in by_kind.get("ScaledObject", {}).items():
        for t in so["spec"]["triggers"]:
            auth = t.get("authenticationRef", {}).get("name")
            if auth and auth not in by_kind.get("TriggerAuthentication", {}):
                fail(f"ScaledObject {name}: TriggerAuthentication {auth} is not defined")

    dash = json.loads((HERE / "grafana" / "dashboard.json").read_text())
    ids = [p["id"] for p in dash["panels"]]
    if len(ids) != len(set(ids)):
        fail("dashboard: duplicate panel ids")
    for p in dash["panels"]:
        if p.get("type") != "row" and not p.get("targets"):
            fail(f"dashboard panel {p.get('title')}: no query")
    print(f"ok   grafana/dashboard.json: {len(dash['panels'])} panels")

    if failures:
        print(f"{len(failures)} problem(s)")
        sys.exit(1)
    print("deployment manifests valid")


if __name__ == "__main__":
    main()
