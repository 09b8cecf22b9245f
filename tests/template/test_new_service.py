"""Fork the service template into a throwaway copy of the repository and hold the fork to the
house rules: its own tests pass on real PostgreSQL and Redis, ruff and mypy --strict are clean,
the launcher runs it, and the deploy suite accepts its manifests. Nothing is written to the
real tree; the databases the fork used are dropped.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from stack_launcher.infra import Infra

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
# An underscore, so every spelling differs: fork_probe, fork-probe, FORK_PROBE_, fork_probe_service.
NAME = "fork_probe"
PACKAGE = f"{NAME}_service"
K8S_NAME = "fork-probe"
COPIED = [
    "tools",
    "services",
    "libs",
    "infra",
    "tests/deploy",
    "docs",
    "conftest.py",
    "pyproject.toml",
]
BIN = Path(sys.executable).parent


def run(args: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 120) -> str:
    """Run a command in the copy; fail the test with its output when it fails."""
    result = subprocess.run(
        args,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{output}"
    return output


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A copy of the parts of the repository a fork touches or is checked with."""
    root = tmp_path_factory.mktemp("repo-copy")
    ignore = shutil.ignore_patterns("__pycache__", ".pytest_cache", ".mypy_cache", "*.pyc")
    for item in COPIED:
        source, target = REPO / item, root / item
        if source.is_dir():
            shutil.copytree(source, target, ignore=ignore)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def forked(copy: Path) -> str:
    """Fork the template once; return what the tool printed."""
    return run([sys.executable, "tools/new_service.py", NAME], copy)


def fork_env(copy: Path, infra: Infra) -> dict[str, str]:
    """Point the copy's processes at the session's servers and at the fork's source."""
    return {
        "PYTHONPATH": f"{copy / 'services' / NAME / 'src'}:{copy / 'infra/launcher/src'}",
        "STACK_INFRA": "external",
        "DATABASE_URL": infra.admin_dsn,
        "REDIS_URL": infra.redis_url,
    }


def test_the_fork_reports_what_it_did(forked: str, copy: Path) -> None:
    assert f"services/{NAME}/" in forked and "Next steps" in forked
    for path in ("pyproject.toml", "forked_services.toml", f"infra/k8s/base/{K8S_NAME}.yaml"):
        assert path in forked
    source = copy / "services" / NAME / "src" / PACKAGE
    for room in ("app.py", "settings.py", "deps.py", "main.py", "items/repository.py"):
        assert (source / room).is_file(), room
    leftovers = [
        str(path)
        for path in (copy / "services" / NAME).rglob("*")
        if path.is_file() and "skeleton" in path.read_text().lower() + str(path).lower()
    ]
    assert not leftovers, f"template name left in {leftovers}"


def test_the_fork_is_registered(forked: str, copy: Path) -> None:
    config = tomllib.loads((copy / "pyproject.toml").read_text())
    assert f"{K8S_NAME}-service" in config["project"]["dependencies"]
    assert config["tool"]["uv"]["sources"][f"{K8S_NAME}-service"] == {"workspace": True}
    assert PACKAGE in config["tool"]["mypy"]["packages"]
    assert f"services/{NAME}/src" in config["tool"]["mypy"]["mypy_path"].split(":")
    registry = copy / "infra/launcher/src/stack_launcher/forked_services.toml"
    forks = tomllib.loads(registry.read_text())["service"]
    (entry,) = [fork for fork in forks if fork["name"] == NAME]
    assert entry["package"] == PACKAGE and entry["env_prefix"] == "FORK_PROBE_"
    others = {fork["port"] for fork in forks if fork is not entry}
    assert 8104 <= entry["port"] <= 8199 and entry["port"] not in others


def test_a_second_fork_of_the_same_name_is_refused_and_changes_nothing(
    forked: str, copy: Path
) -> None:
    before = {p: p.read_bytes() for p in copy.rglob("*") if p.is_file()}
    result = subprocess.run(
        [sys.executable, "tools/new_service.py", NAME],
        cwd=copy,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2 and "exists already" in result.stderr
    assert {p: p.read_bytes() for p in copy.rglob("*") if p.is_file()} == before


def test_ruff_and_mypy_strict_pass_on_the_fork(forked: str, copy: Path) -> None:
    folder = f"services/{NAME}"
    run([str(BIN / "ruff"), "check", folder], copy)
    run([str(BIN / "ruff"), "format", "--check", folder], copy)
    # The copy's own pyproject: strict, pydantic plugin, and the mypy_path the fork added.
    run([str(BIN / "mypy"), "--cache-dir", str(copy / ".mypy_cache"), "-p", PACKAGE], copy)


def test_the_forks_own_tests_pass(forked: str, copy: Path, infra: Infra) -> None:
    try:
        output = run(
            [sys.executable, "-m", "pytest", f"services/{NAME}", "-q", "-p", "no:cacheprovider"],
            copy,
            env=fork_env(copy, infra),
        )
    finally:
        infra.drop_database(f"{PACKAGE}_tests")
    assert " passed" in output and "failed" not in output


def test_the_launcher_runs_the_fork(forked: str, copy: Path, infra: Infra) -> None:
    """The after layout's spec for the fork starts a process that answers /readyz."""
    database = f"{PACKAGE}_launch"
    dsn = infra.create_database(database)
    spec = json.loads(
        run(
            [sys.executable, "-c", LAUNCHER_SPEC, dsn, infra.redis_url], copy, fork_env(copy, infra)
        )
    )
    assert PACKAGE in spec["packages"]
    process = subprocess.Popen(
        spec["argv"],
        cwd=copy,
        env={**os.environ, **fork_env(copy, infra), **spec["env"]},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert wait_ready(f"http://127.0.0.1:{spec['port']}/readyz", process), process.stderr
    finally:
        process.terminate()
        process.wait(timeout=30)
        infra.drop_database(database)


# Build the after layout's process list the way `make up` does, and print the fork's spec.
LAUNCHER_SPEC = """
import json, sys
from pathlib import Path
from stack_launcher import layouts
from stack_launcher.stack import StackConfig

config = StackConfig(
    layout="after", environment="test", workdir=Path("."), database_dsn=sys.argv[1],
    redis_url=sys.argv[2], public_port=0, secrets={"jwt": "x" * 32, "webhook": "x" * 32,
    "download": "x" * 32}, smtp_host="127.0.0.1", smtp_port=0, webhook_port=0,
    smtp_latency_ms=0, webhook_latency_ms=0, scale=None, cpu_count=1, use_default_ports=False,
)
(spec,) = [s for s in layouts.after_processes(config) if s.name == "fork_probe"]
print(json.dumps({"argv": list(spec.argv), "env": dict(spec.env), "port": spec.port,
                  "packages": list(layouts.AFTER_PACKAGES)}))
"""


def wait_ready(url: str, process: subprocess.Popen[str], timeout_s: float = 45) -> bool:
    """Poll `url` until it answers 200, the process dies, or the time is up."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return True
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    return False


def test_the_deploy_suite_accepts_the_forks_manifests(forked: str, copy: Path) -> None:
    base = (copy / "infra/k8s/base/kustomization.yaml").read_text()
    assert f"{K8S_NAME}.yaml" in yaml.safe_load(base)["resources"]
    # The checks that read what a fork adds: manifests, settings names, secrets.
    suites = [
        f"tests/deploy/test_{name}.py"
        for name in ("kubernetes", "settings_names", "secrets_script")
    ]
    # The copy's launcher, whose registry lists the fork, not the one installed in .venv.
    env = {"PYTHONPATH": str(copy / "infra/launcher/src")}
    run([sys.executable, "-m", "pytest", *suites, "-q", "-p", "no:cacheprovider"], copy, env)
