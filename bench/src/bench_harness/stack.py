"""The harness's side of the launcher: start a layout, and learn who can log in to it.

stack_launcher is imported lazily so report and compare work without it (and without a stack).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

DEFAULT_PASSWORD = "seed-password-for-bench"
DEFAULT_EMAIL_TEMPLATE = "user{id}@example.com"


def seed_password() -> str:
    """Return the seeded users' password (the launcher's constant when it is importable)."""
    try:
        from stack_launcher.seed import SEED_PASSWORD
    except ImportError:
        return DEFAULT_PASSWORD
    return str(SEED_PASSWORD)


def email_template() -> str:
    """Return the seeded users' email pattern (`{id}` for the user id).

    $BENCH_EMAIL_TEMPLATE wins, then the launcher's constant when it exports one, then the
    pattern the seed writes today.
    """
    explicit = os.environ.get("BENCH_EMAIL_TEMPLATE")
    if explicit:
        return explicit
    try:
        from stack_launcher import seed
    except ImportError:
        return DEFAULT_EMAIL_TEMPLATE
    for attribute in ("EMAIL_TEMPLATE", "SEED_EMAIL_TEMPLATE"):
        template = getattr(seed, attribute, None)
        if isinstance(template, str) and "{id}" in template:
            return template
    return DEFAULT_EMAIL_TEMPLATE


def available_layouts() -> set[str]:
    """Return the layouts the launcher can start (empty when it cannot start any yet)."""
    try:
        from stack_launcher import stack
    except ImportError:
        return set()
    # known_layouts() imports stack_launcher.layouts, which registers the real layouts.
    known = getattr(stack, "known_layouts", None)
    return set(known() if callable(known) else stack.LAYOUTS)


def _from_scale(scale: str) -> int | None:
    try:
        from stack_launcher import seed
    except ImportError:
        return None
    for attribute in ("SCALES", "SCALE_PARAMETERS", "SCALE"):
        table = getattr(seed, attribute, None)
        if isinstance(table, dict) and scale in table:
            entry = table[scale]
            users = entry.get("users") if isinstance(entry, dict) else getattr(entry, "users", None)
            if isinstance(users, int):
                return users
    return None


def user_count(stack: Any, scale: str) -> int | None:
    """Return how many users were seeded (ids 1..N), from the stack or the scale's table."""
    for attribute in ("user_count", "users"):
        value = getattr(stack, attribute, None)
        if isinstance(value, int):
            return value
    return _from_scale(scale)


@contextmanager
def started(
    layout: str, *, workdir: Path, scale: str, smtp_latency_ms: int, webhook_latency_ms: int
) -> Iterator[Any]:
    """Start a fresh stack of the layout (fresh database, seeded) and stop it afterwards."""
    from stack_launcher.stack import run_stack

    with run_stack(
        layout,
        workdir=workdir,
        scale=scale,
        smtp_latency_ms=smtp_latency_ms,
        webhook_latency_ms=webhook_latency_ms,
        # As deployed: workers sized from the cores, real secrets required, no /docs.
        environment="production",
    ) as stack:
        yield stack
