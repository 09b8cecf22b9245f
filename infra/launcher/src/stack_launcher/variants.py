"""Variants of the after layout with some of its fixes switched off, for the bench ladder.

Each variant is the after layout's own code with configuration changed, never a copy of it:

- celery (fix 3): off runs every task eagerly inside the request (`JOBS_CELERY__EAGER=true`),
  so the PDF, the email and the webhook are back in the request, and no worker process runs;
- index (fix 4, the part that is configuration): off downgrades the user schema to `users_0001`
  after the migrations, which drops `ix_events_user_created`. The N+1 fix and the column lists
  are code and stay in every variant;
- cache (fix 5): off makes the user and jobs services' caches pass-throughs
  (`USER_CACHE_ENABLED=false`, `JOBS_CACHE_ENABLED=false`);
- runtime (fix 6): off serves each web process with plain uvicorn (asyncio loop, h11, one
  worker), like the before layout, instead of gunicorn with uvloop and httptools.

Rungs switch the fixes on in the published order; `after-no-<fix>` is the after layout minus one
fix (the leave-one-out view). `after-no-runtime` is also the ladder's cache rung.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import TypeVar

from stack_launcher.stack import StackConfig, register_layout
from stack_launcher.supervisor import ProcessSpec

T = TypeVar("T")


@dataclass(frozen=True)
class Fixes:
    """Which configurable fixes of the after layout are on (all of them: the after layout)."""

    celery: bool = True
    index: bool = True
    cache: bool = True
    runtime: bool = True

    def without(self, *names: str) -> Fixes:
        """Return these fixes with the named ones switched off."""
        unknown = set(names) - set(SWITCHES)
        if unknown:
            raise ValueError(f"unknown fixes {sorted(unknown)}; known: {', '.join(SWITCHES)}")
        return Fixes(**{name: getattr(self, name) and name not in names for name in SWITCHES})

    @property
    def off(self) -> tuple[str, ...]:
        """Return the names of the fixes switched off, in the published order."""
        return tuple(name for name in SWITCHES if not getattr(self, name))


SWITCHES = tuple(field.name for field in fields(Fixes))
ALL_ON = Fixes()

# Ladder rungs, named for the last fix they add; the cache rung is `after-no-runtime`.
RUNGS = {
    "after-rung-async": ALL_ON.without("celery", "index", "cache", "runtime"),
    "after-rung-celery": ALL_ON.without("index", "cache", "runtime"),
    "after-rung-database": ALL_ON.without("cache", "runtime"),
}
LEAVE_ONE_OUT = {f"after-no-{name}": ALL_ON.without(name) for name in SWITCHES}
VARIANTS: dict[str, Fixes] = {**RUNGS, **LEAVE_ONE_OUT}

# The user schema's revision just before the events index (its own revision for this reason).
USER_REVISION_WITHOUT_INDEX = "users_0001"


def register_variants(
    processes: Callable[[StackConfig, Fixes], list[ProcessSpec]],
    prepare: Callable[[StackConfig, Fixes], None],
) -> None:
    """Register every variant under its name, from the after layout's parameterised functions."""
    for name, fixes in VARIANTS.items():
        register_layout(name, _bound(processes, fixes), prepare=_bound(prepare, fixes))


def _bound(function: Callable[[StackConfig, Fixes], T], fixes: Fixes) -> Callable[[StackConfig], T]:
    def bound(config: StackConfig) -> T:
        return function(config, fixes)

    return bound
