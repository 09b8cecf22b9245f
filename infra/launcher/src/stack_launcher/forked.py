"""Services forked from the template by `make new-service`, read from forked_services.toml.

tools/new_service.py appends one `[[service]]` table per fork; the after layout (layouts.py)
migrates and runs each of them next to its own four services.
"""

from __future__ import annotations

import importlib.resources
import tomllib
from dataclasses import dataclass

REGISTRY = "forked_services.toml"


@dataclass(frozen=True, slots=True)
class ForkedService:
    name: str  # process name, as in `config.ports`
    package: str  # import name: `<package>.main:app` and its migrations
    env_prefix: str  # e.g. "BILLING_"
    port: int  # default port of `make up`


def forked_services() -> tuple[ForkedService, ...]:
    """Return the registered forks, in the order they were created."""
    registry = importlib.resources.files("stack_launcher") / REGISTRY
    if not registry.is_file():
        return ()
    tables = tomllib.loads(registry.read_text(encoding="utf-8")).get("service", [])
    return tuple(ForkedService(**table) for table in tables)
