"""Kubernetes manifests: every overlay renders, validates offline, and follows the house rules.

Core kinds are validated against the Kubernetes OpenAPI-derived JSON schemas shipped by the
kubernetes-validate package, in their strict flavour (unknown fields are errors, so a typo such
as `readinesProbe` fails). CRDs (ServiceMonitor, ScaledObject, TriggerAuthentication) are not
in those schemas; they are checked against the small schemas in tests/deploy/schemas/, which
cover the subset of each CRD this repo uses.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
from deploy_support import KUSTOMIZATIONS, render
from stack_launcher.forked import forked_services

# The oldest Kubernetes minor the manifests promise to work on.
KUBERNETES_VERSION = "1.30.0"
SCHEMAS = Path(__file__).parent / "schemas"
CRD_SCHEMAS = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"): "servicemonitor.json",
    ("keda.sh/v1alpha1", "ScaledObject"): "scaledobject.json",
    ("keda.sh/v1alpha1", "TriggerAuthentication"): "triggerauthentication.json",
}
HTTP_SERVICES = {"core-api": 8000, "identity": 8101, "user": 8102, "jobs": 8103}
# Services forked with `make new-service` join the manifests with the same shape.
FORKS = {fork.name.replace("_", "-"): fork for fork in forked_services()}
# gunicorn's graceful_timeout (service_common.gunicorn_conf) and the preStop drain.
GUNICORN_GRACEFUL_TIMEOUT = 30


def validate_object(obj: dict[str, Any]) -> None:
    """Validate one rendered object; raise jsonschema.ValidationError when it is invalid."""
    crd_schema = CRD_SCHEMAS.get((obj["apiVersion"], obj["kind"]))
    if crd_schema is not None:
        schema = json.loads((SCHEMAS / crd_schema).read_text())
        jsonschema.Draft202012Validator(schema).validate(obj)
        return
    kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


def by_kind(objects: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    return workload["spec"]["template"]["spec"]


def deployment_problems(deployment: dict[str, Any]) -> list[str]:
    """Return what a Deployment misses of the house rules (empty when it has them all)."""
    name = deployment["metadata"]["name"]
    spec = pod_spec(deployment)
    problems = []
    if not spec.get("securityContext", {}).get("runAsNonRoot"):
        problems.append(f"{name}: pod securityContext.runAsNonRoot is not true")
    grace = spec.get("terminationGracePeriodSeconds", 30)
    for container in spec["containers"]:
        where = f"{name}/{container['name']}"
        resources = container.get("resources", {})
        for part in ("requests", "limits"):
            if not {"cpu", "memory"} <= set(resources.get(part, {})):
                problems.append(f"{where}: resources.{part} needs cpu and memory")
        if "livenessProbe" not in container:
            problems.append(f"{where}: no livenessProbe")
        if name not in HTTP_SERVICES:
            continue
        if container.get("readinessProbe", {}).get("httpGet", {}).get("path") != "/readyz":
            problems.append(f"{where}: readinessProbe must GET /readyz")
        if container.get("livenessProbe", {}).get("httpGet", {}).get("path") != "/healthz":
            problems.append(f"{where}: livenessProbe must GET /healthz")
        command = container.get("lifecycle", {}).get("preStop", {}).get("exec", {})
        pre_stop = command.get("command", [])
        if len(pre_stop) != 2 or pre_stop[0] != "sleep":
            problems.append(f"{where}: preStop must be [sleep, <seconds>] so endpoints drain")
            continue
        if grace <= int(pre_stop[1]) + GUNICORN_GRACEFUL_TIMEOUT:
            problems.append(
                f"{where}: terminationGracePeriodSeconds {grace} leaves gunicorn less than its "
                f"graceful_timeout after the {pre_stop[1]} s preStop sleep"
            )
    return problems


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_every_object_validates(rendered: dict[str, list[dict[str, Any]]], name: str) -> None:
    objects = rendered[name]
    assert objects, f"{name} rendered nothing"
    errors = []
    for obj in objects:
        try:
            validate_object(obj)
        except jsonschema.ValidationError as exc:
            path = ".".join(str(p) for p in exc.path)
            errors.append(f"{obj['kind']}/{obj['metadata']['name']} {path}: {exc.message}")
    assert not errors, "\n".join(errors)


def test_a_broken_object_fails_validation(rendered: dict[str, list[dict[str, Any]]]) -> None:
    original = by_kind(rendered["overlays/prod"], "Deployment")["core-api"]
    validate_object(original)

    wrong_type = copy.deepcopy(original)
    pod_spec(wrong_type)["containers"][0]["readinessProbe"]["periodSeconds"] = "five"
    with pytest.raises(jsonschema.ValidationError):
        validate_object(wrong_type)

    typo = copy.deepcopy(original)  # strict schemas reject unknown fields
    container = pod_spec(typo)["containers"][0]
    container["readinesProbe"] = container.pop("readinessProbe")
    with pytest.raises(jsonschema.ValidationError):
        validate_object(typo)


def test_a_broken_crd_object_fails_validation(rendered: dict[str, list[dict[str, Any]]]) -> None:
    scaled = copy.deepcopy(by_kind(rendered["overlays/keda"], "ScaledObject")["jobs-worker"])
    validate_object(scaled)
    del scaled["spec"]["scaleTargetRef"]
    with pytest.raises(jsonschema.ValidationError):
        validate_object(scaled)


def test_a_broken_kustomization_fails_to_render(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text("resources:\n  - missing.yaml\n")
    with pytest.raises(RuntimeError, match="missing.yaml"):
        render(tmp_path)


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_deployments_follow_the_house_rules(
    rendered: dict[str, list[dict[str, Any]]], name: str
) -> None:
    deployments = by_kind(rendered[name], "Deployment")
    assert set(HTTP_SERVICES) | {"jobs-worker", "pgbouncer"} <= set(deployments)
    problems = [p for d in deployments.values() for p in deployment_problems(d)]
    assert not problems, "\n".join(problems)


def test_the_rules_catch_a_deployment_without_probes(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    deployment = copy.deepcopy(by_kind(rendered["base"], "Deployment")["user"])
    container = pod_spec(deployment)["containers"][0]
    del container["readinessProbe"]
    pod_spec(deployment)["terminationGracePeriodSeconds"] = 30
    problems = deployment_problems(deployment)
    assert any("readinessProbe" in p for p in problems)
    assert any("terminationGracePeriodSeconds" in p for p in problems)


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_each_http_service_has_service_hpa_and_pdb(
    rendered: dict[str, list[dict[str, Any]]], name: str
) -> None:
    objects = rendered[name]
    services = by_kind(objects, "Service")
    hpas = by_kind(objects, "HorizontalPodAutoscaler")
    pdbs = by_kind(objects, "PodDisruptionBudget")
    for service, port in HTTP_SERVICES.items():
        assert services[service]["spec"]["ports"][0]["port"] == port
        assert services[service]["spec"].get("type", "ClusterIP") == "ClusterIP"
        assert hpas[service]["spec"]["scaleTargetRef"]["name"] == service
        assert hpas[service]["spec"]["minReplicas"] <= hpas[service]["spec"]["maxReplicas"]
        assert service in pdbs
    assert "jobs-worker" in pdbs
    assert "jobs-worker" not in hpas, "the worker scales on queue length (keda), not CPU"


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_only_core_api_is_reachable_from_outside(
    rendered: dict[str, list[dict[str, Any]]], name: str
) -> None:
    objects = rendered[name]
    policies = by_kind(objects, "NetworkPolicy")
    deny = policies["default-deny-ingress"]["spec"]
    assert deny["podSelector"] == {} and deny["policyTypes"] == ["Ingress"]
    assert "ingress" not in deny
    for policy in policies.values():
        for rule in policy["spec"].get("ingress", []):
            for peer in rule.get("from", []):
                if "namespaceSelector" not in peer:
                    continue
                namespace = peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
                selector = policy["spec"]["podSelector"]
                if namespace == "ingress-nginx":
                    assert selector == {"matchLabels": {"app.kubernetes.io/name": "core-api"}}
                else:
                    assert namespace == "monitoring", policy["metadata"]["name"]
                    assert [p["port"] for p in rule["ports"]] == ["http"]
    backends = {
        path["backend"]["service"]["name"]
        for ingress in by_kind(objects, "Ingress").values()
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    }
    assert backends == {"core-api"}


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_service_monitor_scrapes_every_http_service(
    rendered: dict[str, list[dict[str, Any]]], name: str
) -> None:
    objects = rendered[name]
    (monitor,) = by_kind(objects, "ServiceMonitor").values()
    selector = monitor["spec"]["selector"]["matchLabels"]
    scraped = {
        svc_name
        for svc_name, svc in by_kind(objects, "Service").items()
        if selector.items() <= svc["metadata"].get("labels", {}).items()
    }
    assert scraped == set(HTTP_SERVICES) | set(FORKS)
    assert [(e["port"], e["path"]) for e in monitor["spec"]["endpoints"]] == [("http", "/metrics")]


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_http_services_add_up_their_workers_metrics_in_memory(
    rendered: dict[str, list[dict[str, Any]]], name: str
) -> None:
    """A scrape reaches one gunicorn worker: each writes its metrics to PROMETHEUS_MULTIPROC_DIR,
    a Memory emptyDir (the root file system is read-only), and /metrics adds them up."""
    deployments = by_kind(rendered[name], "Deployment")
    for service in set(HTTP_SERVICES) | set(FORKS):
        spec = pod_spec(deployments[service])
        (container,) = spec["containers"]
        env = {e["name"]: e.get("value") for e in container.get("env", [])}
        mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
        path = env.get("PROMETHEUS_MULTIPROC_DIR")
        assert path in mounts, f"{service}: PROMETHEUS_MULTIPROC_DIR is not a mounted volume"
        volumes = {v["name"]: v for v in spec["volumes"]}
        assert volumes[mounts[path]].get("emptyDir", {}).get("medium") == "Memory", service
    # The Celery worker serves no /metrics: nobody would read its files.
    (worker,) = pod_spec(deployments["jobs-worker"])["containers"]
    assert "PROMETHEUS_MULTIPROC_DIR" not in {e["name"] for e in worker.get("env", [])}


def test_keda_overlay_scales_the_worker_on_the_celery_queue(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    objects = rendered["overlays/keda"]
    scaled = by_kind(objects, "ScaledObject")["jobs-worker"]
    assert scaled["spec"]["scaleTargetRef"]["name"] in by_kind(objects, "Deployment")
    (trigger,) = scaled["spec"]["triggers"]
    assert trigger["type"] == "redis" and trigger["metadata"]["listName"] == "reports"
    assert trigger["authenticationRef"]["name"] in by_kind(objects, "TriggerAuthentication")
    assert "replicas" not in by_kind(objects, "Deployment")["jobs-worker"]["spec"]


def test_migration_job_runs_every_schema_once(rendered: dict[str, list[dict[str, Any]]]) -> None:
    job = by_kind(rendered["overlays/prod"], "Job")["migrate"]
    container = pod_spec(job)["containers"][0]
    assert container["args"] == [
        "python",
        "-m",
        "service_common.migrate",
        "identity_service",
        "user_service",
        "jobs_service",
    ]
    assert pod_spec(job)["restartPolicy"] == "Never"
    assert job["spec"]["ttlSecondsAfterFinished"] > 0


def test_images_are_pinned_per_overlay(rendered: dict[str, list[dict[str, Any]]]) -> None:
    for name, tag in (("overlays/prod", r"\d+\.\d+\.\d+"), ("overlays/dev", "dev")):
        for workload in [
            *by_kind(rendered[name], "Deployment").values(),
            *by_kind(rendered[name], "Job").values(),
        ]:
            for container in pod_spec(workload)["containers"]:
                image = container["image"]
                assert re.fullmatch(rf"[^:]+:{tag}", image) or "pgbouncer" in image, image
                assert not image.endswith(":latest"), image


def test_no_secret_values_are_committed(rendered: dict[str, list[dict[str, Any]]]) -> None:
    for name, objects in rendered.items():
        assert not by_kind(objects, "Secret"), f"{name} renders a Secret: reference it by name"


def test_prod_runs_in_production_mode(rendered: dict[str, list[dict[str, Any]]]) -> None:
    config_maps = by_kind(rendered["overlays/prod"], "ConfigMap")
    environment = {
        key: value
        for cm in config_maps.values()
        for key, value in cm.get("data", {}).items()
        if key.endswith("_ENVIRONMENT")
    }
    assert set(environment) == {
        "CORE_API_ENVIRONMENT",
        "IDENTITY_ENVIRONMENT",
        "USER_ENVIRONMENT",
        "JOBS_ENVIRONMENT",
    } | {f"{fork.env_prefix}ENVIRONMENT" for fork in FORKS.values()}
    assert set(environment.values()) == {"production"}
