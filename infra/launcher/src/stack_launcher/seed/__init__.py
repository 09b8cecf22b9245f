"""Deterministic seed data for either layout: same seed and reference time, same logical rows.

`seed()` fills an empty, migrated database with users, skewed activity events (~1 KB JSONB
payloads) and historical reports using COPY; `logical_digest()` reads the logical data back from
either layout so tests can prove both layouts hold the same. CLI: `python -m stack_launcher.seed`.
"""

from stack_launcher.seed.digest import logical_digest
from stack_launcher.seed.layouts import LAYOUTS, Layout
from stack_launcher.seed.load import Progress, SeedError, SeedSummary, seed, seed_sync
from stack_launcher.seed.scales import (
    SCALES,
    SEED_PASSWORD,
    Scale,
    default_reference_time,
    get_scale,
    seed_password_hash,
)

__all__ = [
    "LAYOUTS",
    "SCALES",
    "SEED_PASSWORD",
    "Layout",
    "Progress",
    "Scale",
    "SeedError",
    "SeedSummary",
    "default_reference_time",
    "get_scale",
    "logical_digest",
    "seed",
    "seed_password_hash",
    "seed_sync",
]
