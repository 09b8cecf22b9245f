"""Fixtures of the deploy checks: rendered kustomize overlays and the compose files, loaded once."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

# Test modules import their shared helpers as `deploy_support` (a name no other suite uses).
sys.path.insert(0, str(Path(__file__).parent))

from deploy_support import COMPOSE, K8S, KUSTOMIZATIONS, load_yaml, render  # noqa: E402


@pytest.fixture(scope="session")
def rendered() -> dict[str, list[dict[str, Any]]]:
    """Every kustomization of infra/k8s, rendered once per session."""
    return {name: render(K8S / name) for name in KUSTOMIZATIONS}


@pytest.fixture(scope="session")
def compose_after() -> dict[str, Any]:
    return load_yaml(COMPOSE / "compose.after.yaml")


@pytest.fixture(scope="session")
def compose_before() -> dict[str, Any]:
    return load_yaml(COMPOSE / "compose.before.yaml")
