"""The connection budget of docs/scaling.md, checked on the manifests themselves.

At the autoscalers' upper bounds, every pool of every process must fit into PgBouncer's client
limit, and PgBouncer's server connections into PostgreSQL's max_connections (the value the
pgbouncer Deployment's annotation says this sizing assumes). Raising an HPA bound or a pool
size without redoing the math fails here.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from deploy_support import KUSTOMIZATIONS


def env_of(container: dict[str, Any], config_maps: dict[str, dict[str, str]]) -> dict[str, str]:
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        env |= config_maps[source["configMapRef"]["name"]]
    env |= {e["name"]: e["value"] for e in container.get("env", []) if "value" in e}
    return env


def connection_budget(objects: list[dict[str, Any]]) -> dict[str, int]:
    """Client connections at the upper bounds, and the PgBouncer/PostgreSQL limits."""
    kinds: dict[str, dict[str, dict[str, Any]]] = {}
    for obj in objects:
        kinds.setdefault(obj["kind"], {})[obj["metadata"]["name"]] = obj
    config_maps = {n: o.get("data", {}) for n, o in kinds["ConfigMap"].items()}
    max_replicas = {
        h["spec"]["scaleTargetRef"]["name"]: h["spec"]["maxReplicas"]
        for h in kinds["HorizontalPodAutoscaler"].values()
    }
    max_replicas |= {
        s["spec"]["scaleTargetRef"]["name"]: s["spec"]["maxReplicaCount"]
        for s in kinds.get("ScaledObject", {}).values()
    }
    clients = 0
    for name, deployment in kinds["Deployment"].items():
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        env = env_of(container, config_maps)
        pool = [k for k in env if k.endswith("_DB__POOL_SIZE")]
        if not pool:
            continue
        prefix = pool[0].removesuffix("DB__POOL_SIZE")
        concurrency = re.search(r"--concurrency=(\d+)", " ".join(container.get("args", [])))
        if concurrency:  # a Celery worker: one small pool per child, no overflow
            processes = int(concurrency[1])
            per_process = int(env[f"{prefix}WORKER_DB_POOL_SIZE"])
        else:
            processes = int(env["WEB_CONCURRENCY"])
            pool_size, overflow = env[f"{prefix}DB__POOL_SIZE"], env[f"{prefix}DB__MAX_OVERFLOW"]
            per_process = int(pool_size) + int(overflow)
        replicas = max_replicas.get(name, deployment["spec"].get("replicas", 1))
        clients += replicas * processes * per_process
    pgbouncer = kinds["Deployment"]["pgbouncer"]
    bouncer_env = env_of(pgbouncer["spec"]["template"]["spec"]["containers"][0], config_maps)
    annotations = pgbouncer["metadata"]["annotations"]
    return {
        "clients": clients,
        # The Service may send every client to one PgBouncer pod: no credit for the others.
        "client_limit": int(bouncer_env["MAX_CLIENT_CONN"]),
        "server": pgbouncer["spec"]["replicas"] * int(bouncer_env["MAX_DB_CONNECTIONS"]),
        "server_limit": int(annotations["refactor-lab/postgres-max-connections"])
        - int(annotations["refactor-lab/postgres-reserved-connections"]),
    }


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_pools_fit_pgbouncer_and_postgres(
    rendered: dict[str, list[dict[str, Any]]], name: str
) -> None:
    budget = connection_budget(rendered[name])
    assert 0 < budget["clients"] <= budget["client_limit"], budget
    assert budget["server"] <= budget["server_limit"], budget


def test_the_budget_catches_an_oversized_pool(rendered: dict[str, list[dict[str, Any]]]) -> None:
    objects = [dict(o) for o in rendered["overlays/prod"]]
    for i, obj in enumerate(objects):
        if obj["kind"] == "ConfigMap" and "USER_DB__POOL_SIZE" in obj.get("data", {}):
            objects[i] = {**obj, "data": {**obj["data"], "USER_DB__POOL_SIZE": "200"}}
    budget = connection_budget(objects)
    assert budget["clients"] > budget["client_limit"]
