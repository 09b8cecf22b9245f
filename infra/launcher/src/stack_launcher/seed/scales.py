"""Seed scales and the fixed inputs every generator shares (password, reference time)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime

# Every seeded user logs in with this password, so k6 can derive credentials from an id alone.
SEED_PASSWORD = "seed-password-for-bench"


@dataclass(frozen=True, slots=True)
class Scale:
    """How much data one seed run writes."""

    name: str
    users: int
    events: int
    reports: int
    payload_bytes: int = 1024


SCALES: dict[str, Scale] = {
    scale.name: scale
    for scale in (
        Scale("tiny", users=50, events=1_000, reports=20),
        Scale("small", users=500, events=20_000, reports=200),
        Scale("default", users=10_000, events=1_000_000, reports=5_000),
        Scale("large", users=50_000, events=5_000_000, reports=25_000),
    )
}


def get_scale(name: str) -> Scale:
    """Return the scale called `name`, or raise ValueError naming the valid ones."""
    try:
        return SCALES[name]
    except KeyError:
        raise ValueError(f"unknown scale {name!r}; choose one of {', '.join(SCALES)}") from None


def default_reference_time() -> datetime:
    """Return now in UTC, floored to the day: two runs on one day generate the same rows."""
    now = datetime.now(UTC)
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


@functools.cache
def seed_password_hash() -> str:
    """Hash SEED_PASSWORD once per process with pwdlib's recommended Argon2 hasher.

    All seeded users share this one hash. Argon2 is deliberately slow (tens of milliseconds and
    tens of MB per hash), so hashing 10k passwords would take minutes; a login still verifies
    against a full-cost Argon2 hash, so the per-login cost the benchmark measures is unchanged.
    The salt makes the hash differ between processes; logical_digest() leaves it out.
    """
    from pwdlib import PasswordHash

    return PasswordHash.recommended().hash(SEED_PASSWORD)
