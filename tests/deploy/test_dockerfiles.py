"""Dockerfiles: a structural lint of every buildable target, and a real build where Docker runs.

dockerfile-parse splits the instructions (continuations, comments); the rules are ours. A
target is a stage no other stage builds on (FROM) or copies from (COPY --from); its image is
the chain of stages from its root FROM down to it, so rules are checked along that chain.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
from deploy_support import DOCKER, REPO, Stage, chain, parse

DOCKERFILES = ("after.Dockerfile", "before.Dockerfile")
EXPECTED_TARGETS = {
    "after.Dockerfile": {
        "identity",
        "user",
        "jobs",
        "core-api",
        "jobs-worker",
        "migrate",
        "standins",
    },
    "before.Dockerfile": {"before"},
}
ONE_SHOT_TARGETS = {"migrate"}  # nothing to probe: HEALTHCHECK NONE is the honest answer
# Exact patch version (python:3.11.14-slim...) or a digest; never a moving tag.
PINNED_PYTHON = re.compile(r"python:3\.11\.\d+-slim[\w.-]*(@sha256:[0-9a-f]{64})?")
DEV_TOOLS = re.compile(
    r"\b(build-essential|gcc|g\+\+|make|git|curl|wget|pytest|mypy|ruff|uv|pip install)\b"
)


def targets(stages: dict[str, Stage]) -> set[str]:
    used = {s.base for s in stages.values()}
    for stage in stages.values():
        used |= {m for v in stage.values("COPY") for m in re.findall(r"--from=(\S+)", v)}
    return set(stages) - used


def lint(text: str) -> dict[str, list[str]]:
    """Return the problems of every target (empty lists when it follows the rules)."""
    args, stages = parse(text)
    report: dict[str, list[str]] = {}
    for target in targets(stages):
        layers = chain(stages, target)
        problems = []
        base = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m[1], ""), layers[0].base)
        if not PINNED_PYTHON.fullmatch(base):
            problems.append(f"base image {base!r} is not python:3.11.<patch>-slim or a digest")
        users = [v for stage in layers for v in stage.values("USER")]
        if not users or users[-1].split(":")[0] in {"root", "0"}:
            problems.append("the final stage does not run as a non-root USER")
        checks = [v for stage in layers for v in stage.values("HEALTHCHECK")]
        if not checks or (checks[-1] == "NONE" and target not in ONE_SHOT_TARGETS):
            problems.append("no HEALTHCHECK")
        for stage in layers:
            for command in stage.values("RUN"):
                if DEV_TOOLS.search(command):
                    problems.append(f"installs a dev tool in the final image: {command!r}")
            for source in stage.values("COPY"):
                origin = re.search(r"--from=(\S+)", source)
                if origin and not source.endswith("/opt/venv /opt/venv"):
                    problems.append(f"copies more than the venv from a build stage: {source!r}")
                if origin and origin[1] in stages:
                    syncs = [v for v in stages[origin[1]].values("RUN") if "uv sync" in v]
                    if not syncs or not all("--no-dev" in v for v in syncs):
                        problems.append(f"{origin[1]} installs the dev dependency group")
        commands = [v for stage in layers for v in stage.values("CMD")]
        if not commands or not commands[-1].startswith("["):
            problems.append("CMD must be exec form so the process gets SIGTERM as PID 1")
        report[target] = problems
    return report


@pytest.mark.parametrize("filename", DOCKERFILES)
def test_every_target_passes_the_lint(filename: str) -> None:
    report = lint((DOCKER / filename).read_text())
    assert set(report) == EXPECTED_TARGETS[filename]
    assert not {t: p for t, p in report.items() if p}


@pytest.mark.parametrize("filename", DOCKERFILES)
def test_dependencies_are_a_layer_of_their_own(filename: str) -> None:
    """uv installs the third-party dependencies before any source is copied in."""
    _, stages = parse((DOCKER / filename).read_text())
    builders = [s for s in stages.values() if any("uv sync" in v for v in s.values("RUN"))]
    assert builders
    for stage in builders:
        steps = [(k, v) for k, v in stage.instructions if k in ("RUN", "COPY")]
        first_source = next(i for i, (k, v) in enumerate(steps) if k == "COPY" and "/src " in v)
        deps_only = [i for i, (k, v) in enumerate(steps) if "--no-install-workspace" in v]
        assert deps_only and deps_only[0] < first_source, stage.name
        assert any("--no-editable" in v for k, v in steps[first_source:]), stage.name


def test_the_lint_catches_a_careless_dockerfile() -> None:
    careless = (
        "FROM python:3.11-slim AS app\n"
        "RUN apt-get update && apt-get install -y build-essential git\n"
        "COPY . /app\n"
        "CMD gunicorn core_api.main:app\n"
    )
    (problems,) = lint(careless).values()
    text = "\n".join(problems)
    for expected in ("base image", "non-root USER", "HEALTHCHECK", "dev tool", "exec form"):
        assert expected in text


def test_the_lint_catches_root_and_a_dev_install_in_a_builder() -> None:
    root = (DOCKER / "after.Dockerfile").read_text().replace("USER 10001:10001", "USER root")
    assert all(any("non-root" in p for p in problems) for problems in lint(root).values())
    dev = (
        (DOCKER / "after.Dockerfile")
        .read_text()
        .replace(
            "uv sync --no-dev --no-editable --package core-api",
            "uv sync --no-editable --package core-api",
        )
    )
    assert any("dev dependency group" in p for p in lint(dev)["core-api"])


def docker_engine_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(
        ["docker", "info", "--format", "{{json .ServerVersion}}"],
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    return probe.returncode == 0 and bool(json.loads(probe.stdout or "null"))


@pytest.mark.docker
@pytest.mark.slow
def test_core_api_image_builds() -> None:
    if not docker_engine_answers():
        pytest.skip("no Docker engine answers (`docker info` failed): image build not checked")
    subprocess.run(
        [
            "docker",
            "build",
            "--file",
            str(DOCKER / "after.Dockerfile"),
            "--target",
            "core-api",
            "--tag",
            "refactor-lab/core-api:test",
            str(REPO),
        ],
        check=True,
        timeout=1200,
    )
