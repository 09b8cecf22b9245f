"""Register a forked service: workspace, launcher and Kubernetes manifests, as planned edits.

Edits are textual, so the files keep their comments and layout; each one is checked by parsing
the result (tomllib, yaml) before anything is written, and refused when its anchor is missing.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Protocol

import yaml  # type: ignore[import-untyped]  # no stubs pinned; only safe_load is used

K8S_TEMPLATES = Path(__file__).resolve().parent / "service_template" / "k8s"
LAUNCHER = Path("infra/launcher/src/stack_launcher")
REGISTRY = LAUNCHER / "forked_services.toml"
K8S_BASE = Path("infra/k8s/base")
OVERLAYS = (Path("infra/k8s/overlays/dev"), Path("infra/k8s/overlays/prod"))
# The default ports of the four services (docs/architecture.md).
BUILT_IN_PORTS = {8000, 8101, 8102, 8103}


class RegistrationError(RuntimeError):
    """A file to edit does not look as expected; nothing was written."""


class Names(Protocol):
    """The spellings of a service's name (new_service.ServiceNames)."""

    @property
    def name(self) -> str: ...
    @property
    def port(self) -> int: ...
    @property
    def package(self) -> str: ...
    @property
    def distribution(self) -> str: ...
    @property
    def k8s(self) -> str: ...
    @property
    def env_prefix(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Change:
    """A file to write: created (must not exist) or updated (its new full text)."""

    path: Path
    text: str
    created: bool
    summary: str = ""


def taken_ports(repo: Path) -> set[int]:
    """Return the default ports of the after layout, forks included."""
    registry = repo / REGISTRY
    forks = tomllib.loads(registry.read_text()).get("service", []) if registry.exists() else []
    return BUILT_IN_PORTS | {int(fork["port"]) for fork in forks}


def plan_registration(names: Names, repo: Path) -> list[Change]:
    """Return every edit that registers the service; raise RegistrationError if one cannot."""
    return [
        plan_workspace(names, repo),
        plan_launcher(names, repo),
        *plan_kubernetes(names, repo),
    ]


def plan_workspace(names: Names, repo: Path) -> Change:
    """Add the service to the root pyproject: dependency, uv source and mypy's packages."""
    path = repo / "pyproject.toml"
    text = path.read_text()
    if f'"{names.distribution}"' in text:
        raise RegistrationError(f"pyproject.toml already lists {names.distribution}")
    text = _insert_list_item(text, "[project]", "dependencies", f'"{names.distribution}"')
    text = _append_to_table(
        text, "[tool.uv.sources]", f"{names.distribution} = {{ workspace = true }}"
    )
    text, found = re.subn(
        r'^(mypy_path = "[^"]*)"', rf'\1:services/{names.name}/src"', text, flags=re.M
    )
    text, found_too = re.subn(
        r"^(packages = \[[^\]]*)\]", rf'\1, "{names.package}"]', text, flags=re.M
    )
    if not (found == found_too == 1):
        raise RegistrationError("pyproject.toml: [tool.mypy] mypy_path / packages not found")
    config = tomllib.loads(text)
    assert names.distribution in config["project"]["dependencies"]
    assert names.package in config["tool"]["mypy"]["packages"]
    return Change(path, text, created=False, summary="pyproject.toml (workspace, uv source, mypy)")


def plan_launcher(names: Names, repo: Path) -> Change:
    """Append the service to the launcher's registry of forks (read by layouts.py)."""
    path = repo / REGISTRY
    text = path.read_text() if path.exists() else ""
    entry = (
        f'\n[[service]]\nname = "{names.name}"\npackage = "{names.package}"\n'
        f'env_prefix = "{names.env_prefix}"\nport = {names.port}\n'
    )
    forks = tomllib.loads(text + entry)["service"]
    if [fork["name"] for fork in forks].count(names.name) != 1:
        raise RegistrationError(f"{REGISTRY} already lists {names.name}")
    return Change(path, text + entry, created=False, summary=f"{REGISTRY} (after layout)")


def plan_kubernetes(names: Names, repo: Path) -> list[Change]:
    """Add the manifests, ConfigMap and secret keys, and pin the image in each overlay."""
    values = {
        "name": names.k8s,
        "package": names.package,
        "prefix": names.env_prefix,
        "port": str(names.port),
    }
    base = repo / K8S_BASE
    manifest = f"{names.k8s}.yaml"
    config = f"config/{names.k8s}.env"
    changes = [
        Change(
            base / manifest, _render("service.yaml.tmpl", values), True, str(K8S_BASE / manifest)
        ),
        Change(base / config, _render("config.env.tmpl", values), True, str(K8S_BASE / config)),
    ]
    kustomization = base / "kustomization.yaml"
    text = kustomization.read_text()
    text = _append_yaml_block(text, "resources:", f"  - {manifest}\n")
    text = _append_yaml_block(
        text, "configMapGenerator:", f"  - name: {names.k8s}-config\n    envs: [{config}]\n"
    )
    parsed = yaml.safe_load(text)
    assert manifest in parsed["resources"]
    changes.append(Change(kustomization, text, False, f"{K8S_BASE}/kustomization.yaml"))
    secrets = repo / "infra/k8s/secrets.example.env"
    secrets_text = secrets.read_text().rstrip("\n") + "\n" + _render("secrets.env.tmpl", values)
    changes.append(Change(secrets, secrets_text, False, "infra/k8s/secrets.example.env"))
    for overlay in OVERLAYS:
        path = repo / overlay / "kustomization.yaml"
        pinned = _pin_image(path.read_text(), names.k8s)
        changes.append(Change(path, pinned, False, f"{overlay}/kustomization.yaml (image)"))
    return changes


def _render(template: str, values: dict[str, str]) -> str:
    return Template((K8S_TEMPLATES / template).read_text()).substitute(values)


def _insert_list_item(text: str, table: str, key: str, item: str) -> str:
    """Insert `item` as the last entry of a multi-line TOML list `key = [` inside `table`."""
    lines = text.splitlines(keepends=True)
    opening = _line_after(lines, table, f"{key} = [", stop_at="[")
    closing = _line_after(lines[opening:], "", "]", exact=True) + opening
    lines.insert(closing, f"    {item},\n")
    return "".join(lines)


def _append_to_table(text: str, table: str, line: str) -> str:
    """Append `line` after the last line of a TOML table (it ends at a blank line)."""
    lines = text.splitlines(keepends=True)
    end = _block_end(lines, table, lambda row: bool(row.strip()) and not row.startswith("["))
    lines.insert(end, f"{line}\n")
    return "".join(lines)


def _append_yaml_block(text: str, key: str, entry: str) -> str:
    """Append `entry` after the last indented line of a top-level YAML block `key`."""
    lines = text.splitlines(keepends=True)
    lines.insert(_block_end(lines, key, lambda row: row.startswith("  ")), entry)
    return "".join(lines)


def _line_after(
    lines: list[str], header: str, wanted: str, *, stop_at: str | None = None, exact: bool = False
) -> int:
    """Return the index of the first line starting with `wanted` after the `header` line."""
    start = _index(lines, header) if header else -1
    for index in range(start + 1, len(lines)):
        row = lines[index].rstrip("\n")
        if row == wanted or (not exact and row.startswith(wanted)):
            return index
        if stop_at is not None and row.startswith(stop_at):
            break
    raise RegistrationError(f"no {wanted!r} after {header!r}")


def _block_end(lines: list[str], header: str, inside: Callable[[str], bool]) -> int:
    """Return the index just past the lines that follow `header` and are `inside` its block."""
    end = _index(lines, header) + 1
    while end < len(lines) and inside(lines[end]):
        end += 1
    return end


def _index(lines: list[str], header: str) -> int:
    try:
        return lines.index(f"{header}\n")
    except ValueError:
        raise RegistrationError(f"no {header!r} line") from None


def _pin_image(text: str, k8s_name: str) -> str:
    """Pin the new image like the overlay pins the migrate image (same registry and tag)."""
    lines = text.splitlines(keepends=True)
    for index, line in enumerate(lines):
        if line.lstrip().startswith("- {name: refactor-lab/migrate"):
            lines.insert(index + 1, line.replace("migrate", k8s_name))
            return "".join(lines)
    raise RegistrationError("overlay kustomization.yaml: no refactor-lab/migrate image to follow")
