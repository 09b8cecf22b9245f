"""Bench profiles: how long and how carefully each phase runs.

smoke  seconds per phase on the tiny scale, for CI: proves the pipeline, measures nothing.
quick  the default of `make bench`: both layouts in roughly ten minutes on two cores.
full   published numbers: three repeats (median, min-max) and an A/A run of the after layout,
       plus py-spy CPU profiles of every service (`profiles`).

Every profile also measures each request type's CPU cost alone (`cost_s` of traffic per type at
the profile's fixed rate, after `cost_idle_s` of idle stack to learn the background CPU).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Profile:
    name: str
    scale: str
    repeats: int
    aa_run: bool
    pool_size: int
    warmup_rate: int
    warmup_s: float
    step_s: float
    step_cooldown_s: float
    idle_wait_s: float
    search_start_rate: int
    search_min_rate: int
    search_max_rate: int
    search_max_steps: int
    search_tolerance: float
    fixed_rate_default: int
    fixed_s: float
    saturation_vus: int
    saturation_ramp_s: float
    saturation_s: float
    probe_repeats: int
    dashboard_export: bool
    cost_s: float = 10.0  # traffic per request type of the cost model (0: no cost runs)
    cost_idle_s: float = 3.0  # idle window before the cost runs: the stack's background CPU
    profiles: bool = False  # py-spy profiles of the services during a fixed-rate mix run

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


PROFILES: dict[str, Profile] = {
    "smoke": Profile(
        name="smoke",
        scale="tiny",
        repeats=1,
        aa_run=False,
        pool_size=5,
        warmup_rate=5,
        warmup_s=3,
        step_s=4,
        step_cooldown_s=0.5,
        idle_wait_s=5,
        search_start_rate=5,
        search_min_rate=1,
        search_max_rate=40,
        search_max_steps=3,
        search_tolerance=0.5,
        fixed_rate_default=5,
        fixed_s=5,
        saturation_vus=4,
        saturation_ramp_s=1,
        saturation_s=4,
        probe_repeats=2,
        dashboard_export=False,
        cost_s=3,
        cost_idle_s=2,
    ),
    "quick": Profile(
        name="quick",
        scale="default",
        repeats=1,
        aa_run=False,
        pool_size=30,
        warmup_rate=5,
        warmup_s=15,
        step_s=12,
        step_cooldown_s=2,
        idle_wait_s=30,
        search_start_rate=10,
        search_min_rate=1,
        search_max_rate=5000,
        search_max_steps=11,
        search_tolerance=0.2,
        fixed_rate_default=50,
        fixed_s=30,
        saturation_vus=64,
        saturation_ramp_s=5,
        saturation_s=25,
        probe_repeats=5,
        dashboard_export=True,
        cost_s=10,
        cost_idle_s=5,
    ),
    "full": Profile(
        name="full",
        scale="default",
        repeats=3,
        aa_run=True,
        pool_size=50,
        warmup_rate=5,
        warmup_s=20,
        step_s=15,
        step_cooldown_s=3,
        idle_wait_s=30,
        search_start_rate=10,
        search_min_rate=1,
        search_max_rate=5000,
        search_max_steps=12,
        search_tolerance=0.1,
        fixed_rate_default=50,
        fixed_s=45,
        saturation_vus=128,
        saturation_ramp_s=5,
        saturation_s=30,
        probe_repeats=10,
        dashboard_export=True,
        cost_s=15,
        cost_idle_s=5,
        profiles=True,
    ),
}
