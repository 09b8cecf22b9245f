"""Cross-references: env var names in the manifests are settings the services really read.

Source of truth, in order: the settings classes themselves when they import (the check then
compares against their fields), else the names docs/architecture.md and the scale-out issue
document (KNOWN below, which the doc is checked against). Secrets are cross-checked with
infra/k8s/secrets.example.env, the only place their keys are listed.
"""

from __future__ import annotations

import importlib
import inspect
import re
from typing import Any

import pytest
from deploy_support import K8S, REPO, load_yaml

PREFIXES = {
    "core_api": "CORE_API_",
    "identity_service": "IDENTITY_",
    "user_service": "USER_",
    "jobs_service": "JOBS_",
}
COMMON = {
    "ENVIRONMENT",
    "LOG_LEVEL",
    "CORS_ORIGINS",
    "DB__URL",
    "DB__READ_URL",
    "DB__POOL_SIZE",
    "DB__MAX_OVERFLOW",
    "DB__PGBOUNCER",
    "REDIS__URL",
}
KNOWN = {
    "CORE_API_": COMMON
    | {
        "JWT__SECRET",
        "DOWNLOADS__SECRET",
        "IDENTITY_URL",
        "USER_URL",
        "JOBS_URL",
        "TRUSTED_PROXIES",
        "VIEWS__ENABLED",
        "VIEWS__USER_PREFIX",
        "VIEWS__JOBS_PREFIX",
    },
    "IDENTITY_": COMMON | {"JWT__SECRET"},
    "USER_": COMMON,
    "JOBS_": COMMON
    | {"WEBHOOK__SECRET", "SMTP__HOST", "SMTP__PORT", "USER_URL", "WORKER_DB_POOL_SIZE"},
}
# Which prefixes each of our images may read.
IMAGE_PREFIXES = {
    "core-api": {"CORE_API_"},
    "identity": {"IDENTITY_"},
    "user": {"USER_"},
    "jobs": {"JOBS_"},
    "jobs-worker": {"JOBS_"},
    "migrate": set(),
}
# Read by gunicorn's config (and prometheus_client), and by the migration runner (one URL for
# every schema).
UNPREFIXED = {"PORT", "WEB_CONCURRENCY", "PROMETHEUS_MULTIPROC_DIR", "DATABASE_URL"}


def split(name: str) -> tuple[str, str] | None:
    for prefix in sorted(KNOWN, key=len, reverse=True):
        if name.startswith(prefix):
            return prefix, name.removeprefix(prefix)
    return None


def settings_from_code() -> dict[str, set[str]] | None:
    """Env names (without prefix) of each service's settings class, or None if not importable."""
    try:
        from pydantic import BaseModel
        from pydantic_settings import BaseSettings
    except ImportError:
        return None

    def walk(model: type[BaseModel], delimiter: str, path: str = "") -> set[str]:
        names = set()
        for field_name, info in model.model_fields.items():
            env = (path + field_name).upper()
            names.add(env)
            annotation = info.annotation
            if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
                names |= walk(annotation, delimiter, env + delimiter)
        return names

    found = {}
    for package, prefix in PREFIXES.items():
        try:
            module = importlib.import_module(f"{package}.settings")
        except ImportError:
            return None
        classes = [
            c
            for c in vars(module).values()
            if inspect.isclass(c)
            and issubclass(c, BaseSettings)
            and c.__module__ == module.__name__
        ]
        if len(classes) != 1:
            return None
        (settings,) = classes
        assert settings.model_config.get("env_prefix") == prefix
        found[prefix] = walk(settings, settings.model_config.get("env_nested_delimiter") or "__")
    return found


def containers(objects: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any], set[str]]]:
    """(image short name, container, env names incl. ConfigMap keys) of our own images."""
    config_maps = {
        o["metadata"]["name"]: o.get("data", {}) for o in objects if o["kind"] == "ConfigMap"
    }
    result = []
    for obj in objects:
        if obj["kind"] not in ("Deployment", "Job"):
            continue
        for container in obj["spec"]["template"]["spec"]["containers"]:
            image = container["image"].rsplit("/", 1)[-1].split(":")[0]
            if image not in IMAGE_PREFIXES:
                continue
            names = {e["name"] for e in container.get("env", [])}
            for source in container.get("envFrom", []):
                names |= set(config_maps[source["configMapRef"]["name"]])
            result.append((image, container, names))
    return result


def compose_env() -> list[tuple[str, set[str]]]:
    services = load_yaml(REPO / "infra/compose/compose.after.yaml")["services"]
    result = []
    for service in services.values():
        image = service.get("image", "").rsplit("/", 1)[-1].split(":")[0]
        if image in IMAGE_PREFIXES:
            result.append((image, set(service.get("environment", {}))))
    return result


def name_problems(image: str, names: set[str], known: dict[str, set[str]]) -> list[str]:
    problems = []
    for name in names - UNPREFIXED:
        parts = split(name)
        if parts is None:
            problems.append(f"{image}: {name} has no service prefix")
        elif parts[0] not in IMAGE_PREFIXES[image]:
            problems.append(f"{image}: {name} belongs to another service")
        elif parts[1] not in known[parts[0]]:
            problems.append(f"{image}: {name} is not a setting of {parts[0]}")
    return problems


def test_architecture_doc_agrees_with_the_known_names() -> None:
    doc = (REPO / "docs/architecture.md").read_text()
    for prefix in KNOWN:
        assert f"`{prefix}`" in doc, f"docs/architecture.md no longer documents {prefix}"
    for example in set(re.findall(r"`([A-Z][A-Z_]*__[A-Z_]+)`", doc)):
        parts = split(example)
        assert parts and parts[1] in KNOWN[parts[0]], f"{example} documented, unknown here"
    for field in ("environment", "db", "redis", "log_level", "cors_origins"):
        assert f"`{field}`" in doc


def test_manifest_names_are_known_settings(rendered: dict[str, list[dict[str, Any]]]) -> None:
    problems = [
        p
        for objects in rendered.values()
        for image, _, names in containers(objects)
        for p in name_problems(image, names, KNOWN)
    ]
    problems += [p for image, names in compose_env() for p in name_problems(image, names, KNOWN)]
    assert not problems, "\n".join(sorted(set(problems)))


def test_the_name_check_catches_a_misspelt_setting() -> None:
    problems = name_problems("user", {"USER_DB_URL", "IDENTITY_JWT__SECRET", "DB_URL"}, KNOWN)
    assert sorted(problems) == [
        "user: DB_URL has no service prefix",
        "user: IDENTITY_JWT__SECRET belongs to another service",
        "user: USER_DB_URL is not a setting of USER_",
    ]


def test_manifest_names_match_the_settings_classes(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    from_code = settings_from_code()
    if from_code is None:
        pytest.skip("the services' settings modules are not importable yet: checked by name only")
    problems = [
        p
        for objects in rendered.values()
        for image, _, names in containers(objects)
        for p in name_problems(image, names, from_code)
    ]
    problems += [
        p for image, names in compose_env() for p in name_problems(image, names, from_code)
    ]
    assert not problems, "\n".join(sorted(set(problems)))


def secret_sections() -> dict[str, dict[str, str]]:
    sections: dict[str, dict[str, str]] = {}
    current = None
    for line in (K8S / "secrets.example.env").read_text().splitlines():
        if line.startswith("# secret: "):
            current = sections.setdefault(line.removeprefix("# secret: ").strip(), {})
        elif line.strip() and not line.startswith("#"):
            assert current is not None, f"key before any '# secret:' line: {line}"
            key, _, value = line.partition("=")
            current[key] = value
    return sections


def test_secret_references_match_the_example_file(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    sections = secret_sections()
    used: set[tuple[str, str]] = set()
    for objects in rendered.values():
        for obj in objects:
            if obj["kind"] == "TriggerAuthentication":
                used |= {(r["name"], r["key"]) for r in obj["spec"]["secretTargetRef"]}
            if obj["kind"] not in ("Deployment", "Job"):
                continue
            for container in obj["spec"]["template"]["spec"]["containers"]:
                for env in container.get("env", []):
                    ref = env.get("valueFrom", {}).get("secretKeyRef")
                    if ref:
                        assert ref["key"] == env["name"], "secret keys are the env var names"
                        used.add((ref["name"], ref["key"]))
    listed = {(name, key) for name, keys in sections.items() for key in keys}
    assert used == listed
    values = [v for keys in sections.values() for v in keys.values()]
    assert all("CHANGE_ME" in v for v in values), "secrets.example.env holds placeholders only"
