"""Compose files: valid against the Compose Specification's JSON schema, and wired as intended.

The schema is the one check-jsonschema vendors (a pinned dev dependency), read from the
installed package: nothing is fetched at test time.
"""

from __future__ import annotations

import copy
import json
import re
from importlib import resources
from typing import Any

import jsonschema
import pytest
from deploy_support import COMPOSE, REPO, chain, load_yaml, parse

BEFORE_SERVICES = (
    "auth",
    "token",
    "session",
    "user",
    "profile",
    "prefs",
    "events",
    "report",
    "export",
    "pdf",
    "email",
    "webhook",
    "config",
)


def compose_schema() -> dict[str, Any]:
    vendored = resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    schema: dict[str, Any] = json.loads(vendored.read_text())
    return schema


def validate_compose(document: dict[str, Any]) -> None:
    """Raise jsonschema.ValidationError unless `document` is a valid compose file."""
    schema = compose_schema()
    jsonschema.validators.validator_for(schema)(schema).validate(document)


@pytest.mark.parametrize("filename", ["compose.after.yaml", "compose.before.yaml"])
def test_compose_file_matches_the_specification(filename: str) -> None:
    validate_compose(load_yaml(COMPOSE / filename))


def test_a_broken_compose_file_fails_validation(compose_after: dict[str, Any]) -> None:
    broken = copy.deepcopy(compose_after)
    broken["services"]["core-api"]["depends_on"]["identity"]["condition"] = "healthy"
    with pytest.raises(jsonschema.ValidationError):
        validate_compose(broken)
    broken = copy.deepcopy(compose_after)
    broken["services"]["redis"]["healtcheck"] = broken["services"]["redis"].pop("healthcheck")
    with pytest.raises(jsonschema.ValidationError):
        validate_compose(broken)


def healthchecked(services: dict[str, Any], name: str) -> bool:
    """Whether a service has a healthcheck, in compose or from its image's Dockerfile target."""
    service = services[name]
    if "healthcheck" in service:
        return not service["healthcheck"].get("disable", False)
    build = service.get("build")
    if not build:
        return False
    dockerfile = (REPO / "infra/compose" / build["context"] / build["dockerfile"]).resolve()
    _, stages = parse(dockerfile.read_text())
    checks = [v for stage in chain(stages, build["target"]) for v in stage.values("HEALTHCHECK")]
    return bool(checks) and checks[-1] != "NONE"


@pytest.mark.parametrize("filename", ["compose.after.yaml", "compose.before.yaml"])
def test_depends_on_conditions_can_be_met(filename: str) -> None:
    services = load_yaml(COMPOSE / filename)["services"]
    for name, service in services.items():
        for target, rule in service.get("depends_on", {}).items():
            assert target in services, f"{name} depends on unknown {target}"
            condition = rule["condition"]
            if condition == "service_healthy":
                assert healthchecked(services, target), f"{name} waits for {target}'s health"
            if condition == "service_completed_successfully":
                assert services[target].get("restart") == "no", f"{target} must be one-shot"


def test_after_layout_wiring(compose_after: dict[str, Any]) -> None:
    services = compose_after["services"]
    assert {
        "core-api",
        "identity",
        "user",
        "jobs",
        "jobs-worker",
        "migrations",
        "postgres",
        "pgbouncer",
        "redis",
        "smtp-sink",
        "webhook-receiver",
    } <= set(services)
    postgres = services["postgres"]
    assert int(re.match(r"postgres:(\d+)", postgres["image"])[1]) >= 16
    assert "shared_preload_libraries=pg_stat_statements" in postgres["command"]
    assert services["pgbouncer"]["environment"]["POOL_MODE"] == "transaction"
    published = {name for name, s in services.items() if "ports" in s}
    assert published == {"core-api", "postgres"}
    assert all(p.startswith("127.0.0.1:") for p in services["postgres"]["ports"])
    for name, service in services.items():
        env = service.get("environment", {})
        for key, url in env.items():
            if not key.endswith("DATABASE_URL") and not key.endswith("_DB__URL"):
                continue
            if name in ("migrations", "pgbouncer"):
                assert "@postgres:" in url, f"{name} connects to PostgreSQL itself"
            else:
                assert "@pgbouncer:" in url, f"{name} must pool through PgBouncer"
                assert env[key.replace("DB__URL", "DB__PGBOUNCER")] == "true"
    assert services["migrations"]["build"]["target"] == "migrate"


def test_http_services_add_up_their_workers_metrics_on_a_tmpfs(
    compose_after: dict[str, Any],
) -> None:
    services = compose_after["services"]
    for name in ("core-api", "identity", "user", "jobs"):
        path = services[name]["environment"]["PROMETHEUS_MULTIPROC_DIR"]
        assert path in services[name]["tmpfs"], f"{name}: PROMETHEUS_MULTIPROC_DIR on no tmpfs"
    assert "PROMETHEUS_MULTIPROC_DIR" not in services["jobs-worker"]["environment"]


def test_third_party_stand_ins_run_as_specified(compose_after: dict[str, Any]) -> None:
    services = compose_after["services"]
    assert services["smtp-sink"]["command"] == [
        "python",
        "-m",
        "stack_launcher.smtp_sink",
        "--host",
        "0.0.0.0",
        "--port",
        "8025",
        "--latency-ms",
        "150",
        "--record",
        "/data/smtp.jsonl",
    ]
    assert services["webhook-receiver"]["command"] == [
        "python",
        "-m",
        "stack_launcher.webhook_receiver",
        "--host",
        "0.0.0.0",
        "--port",
        "8090",
        "--latency-ms",
        "200",
        "--record",
        "/data/webhooks.jsonl",
        "--secret",
        "${WEBHOOK_SECRET}",
    ]
    # jobs signs with the secret the receiver verifies with.
    assert services["jobs"]["environment"]["JOBS_WEBHOOK__SECRET"].startswith("${WEBHOOK_SECRET")


@pytest.mark.parametrize("filename", ["compose.after.yaml", "compose.before.yaml"])
def test_bench_profile_runs_k6_from_the_repo_scripts(filename: str) -> None:
    services = load_yaml(COMPOSE / filename)["services"]
    k6 = services["k6"]
    assert k6["profiles"] == ["bench"]
    assert re.fullmatch(r"grafana/k6:\d+\.\d+\.\d+", k6["image"])
    assert "../../bench/k6:/scripts:ro" in k6["volumes"]
    # The stack itself starts without a profile; only the bench pieces wait for one.
    assert {n for n, s in services.items() if "profiles" in s} == {"k6", "seed"}


def test_before_layout_runs_fourteen_services(compose_before: dict[str, Any]) -> None:
    services = compose_before["services"]
    names = ("gateway", *BEFORE_SERVICES)
    ports = (8000, *range(8201, 8214))
    for name, port in zip(names, ports, strict=True):
        service = services[name]
        assert service["command"] == [name, "--host", "0.0.0.0"]
        assert service["healthcheck"]["test"][-1] == str(port)
        assert service["image"] == "refactor-lab/before:local"
        # every service reaches every peer by its compose name and default port
        assert service["environment"][f"BEFORE_{name.upper()}_URL"] == f"http://{name}:{port}"
    published = {name for name, s in services.items() if "ports" in s}
    assert published == {"gateway", "postgres"}
    mounts = services["postgres"]["volumes"]
    assert "../../before/schema.sql:/docker-entrypoint-initdb.d/10-schema.sql:ro" in mounts
    assert "shared_preload_libraries=pg_stat_statements" in services["postgres"]["command"]


@pytest.mark.parametrize("filename", ["compose.after.yaml", "compose.before.yaml"])
def test_every_required_variable_is_in_the_env_example(filename: str) -> None:
    text = (COMPOSE / filename).read_text()
    required = set(re.findall(r"\$\{([A-Z_]+):\?", text))
    example = (COMPOSE / "compose.env.example").read_text()
    documented = set(re.findall(r"^([A-Z_]+)=", example, flags=re.MULTILINE))
    assert required and required <= documented
    assert all(v == "CHANGE_ME" for v in re.findall(r"^[A-Z_]+=(.*)$", example, re.MULTILINE))
