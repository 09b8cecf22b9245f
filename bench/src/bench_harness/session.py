"""One layout on one fresh stack: warm-up, evidence probe, step search, fixed load, each request
type's CPU cost alone (cost_run.py), py-spy profiles (pyspy.py, `full` only), saturation.

The phases run in this order so that the search sees a warm but unabused stack, and the
saturation run (which overloads the before layout on purpose) comes last.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx

from bench_harness import ui
from bench_harness.cost_run import cost_rate, measure_costs
from bench_harness.database import Postgres, RedisStats, cache_delta, count_statements
from bench_harness.k6run import (
    SLOW_REQUEST_GRACE_S,
    Phase,
    Target,
    run_phase,
    step_phase,
    wait_seconds,
)
from bench_harness.paths import mix_weights
from bench_harness.probe import probe_requests
from bench_harness.profiles import Profile
from bench_harness.pyspy import profiled_run
from bench_harness.results import now
from bench_harness.search import Criteria, SearchPlan, step_search
from bench_harness.system import (
    CpuMeter,
    memory_snapshot,
    service_roots,
    spread,
    supervised,
    total_rss,
)

Json = dict[str, Any]
TOKEN_MARGIN_S = 120


class LayoutSession:
    """Measure one layout on a started stack; `measure()` returns the run record."""

    def __init__(
        self,
        *,
        layout: str,
        stack: Any,
        profile: Profile,
        criteria: Criteria,
        artifacts: Path,
        target: Target,
        only: list[str] | None = None,
        cost: bool = True,
    ) -> None:
        self.layout = layout
        self.only = only  # request types of the mix to send (None: the whole mix)
        self.cost = cost  # measure each request type's CPU cost (cost_run.py)
        self.stack = stack
        self.profile = profile
        self.criteria = criteria
        self.artifacts = artifacts
        self.target = target
        self.tokens_file = artifacts / "tokens.json"
        self.target.tokens_file = self.tokens_file
        self.tokens_at = 0.0
        self.warnings: list[str] = []
        self.alone_ms = 0.0  # a dashboard request's latency on an idle stack (from the probe)
        self.postgres = Postgres(stack.database_dsn)
        self.redis = RedisStats(stack.redis_url)

    def close(self) -> None:
        """Release the witness connections (before the stack stops)."""
        self.postgres.close()
        self.redis.close()
        self.tokens_file.unlink(missing_ok=True)  # tokens are secrets; results keep none

    # -- phases -------------------------------------------------------------------------------

    def run(self, phase: Phase, **kwargs: Any) -> Json:
        """Run one k6 phase against the stack (the mix, or `--only`'s types unless it says)."""
        if self.only and phase.only is None:
            phase = replace(phase, only=",".join(self.only))
        self.ensure_tokens(phase.measured_s() + 30)
        with ui.phase_progress(f"{self.layout}: {phase.describe()}", phase.measured_s()):
            result = run_phase(phase, self.target, self.artifacts, **kwargs)
        if result["loadgen"]["saturated"]:
            self.warnings.append(f"{phase.name}: k6 used more than 90% of a core")
        return result

    def ensure_tokens(self, needed_s: float) -> None:
        """Log the pool in again unless its tokens outlive the next `needed_s` seconds."""
        lifetime = self._token_lifetime()
        if self.tokens_file.exists() and time.monotonic() + needed_s < self.tokens_at + lifetime:
            return
        self.tokens_file.unlink(missing_ok=True)
        login = Phase(name="login", mode="open", rate=1, duration_s=1, only="me")
        run_phase(login, self.target, self.artifacts)
        self.tokens_at = time.monotonic()

    def _token_lifetime(self) -> float:
        if not self.tokens_file.exists():
            return 0.0
        lifetimes = [user.get("expires_in") or 900 for user in self.users()]
        return max(min(lifetimes) - TOKEN_MARGIN_S, 60)

    def users(self) -> list[Json]:
        """Return the logged-in pool (ids, tokens, prefs) issued by k6's setup()."""
        users: list[Json] = json.loads(self.tokens_file.read_text())
        return users

    def warm_up(self) -> Json:
        """Log the pool in (k6 setup) and send the mix at a gentle rate."""
        self.tokens_file.unlink(missing_ok=True)
        phase = Phase(
            name="warmup",
            mode="open",
            rate=self.profile.warmup_rate,
            duration_s=self.profile.warmup_s,
            only=",".join(self.only) if self.only else None,
        )
        with ui.phase_progress(f"{self.layout}: warm-up", phase.measured_s()):
            result = run_phase(phase, self.target, self.artifacts)
        self.tokens_at = time.monotonic()
        return result

    def probe(self) -> Json:
        """Send each request type alone and read the evidence headers and pg_stat_statements."""
        user = self.users()[0]
        with ui.status(f"{self.layout}: probing each request type"):
            probe = probe_requests(
                self.target.base_url,
                user,
                password=self.target.password,
                email=self.target.email_template.format(id=user["id"]),
                repeats=self.profile.probe_repeats,
                postgres=self.postgres,
                weights=mix_weights(),
            )
        self.alone_ms = probe["types"]["dashboard"]["latency_ms_median"]
        self.warnings.extend(probe.pop("warnings"))
        return probe

    def search(self, start_rate: int) -> Json:
        """Find the highest arrival rate the layout sustains within the criteria."""
        profile = self.profile
        plan = SearchPlan(
            start_rate=start_rate,
            min_rate=profile.search_min_rate,
            max_rate=profile.search_max_rate,
            max_steps=profile.search_max_steps,
            tolerance=profile.search_tolerance,
        )

        def measure(rate: int) -> Json:
            step = self.run(step_phase(f"step-{rate:05d}", rate, profile.step_s))
            step["verdict"] = self.criteria.judge(step["metrics"])
            ui.step_line(self.layout, rate, step)
            step.pop("samples", None)
            wait_seconds(profile.step_cooldown_s)
            if not step["verdict"]["passed"]:
                step["idle_wait_s"] = self.wait_idle()
            return step

        return step_search(measure, plan)

    def fixed_load(self, rate: int) -> tuple[Json, Json]:
        """Run the fixed load with the evidence collectors on; return (phase, evidence)."""
        roots = service_roots(supervised(self.stack))
        services_cpu = CpuMeter(roots)
        probes = {
            "db_connections": self.postgres.connections,
            "services_cpu": services_cpu.read,
            "services_rss": lambda: total_rss(roots),
        }
        phase = Phase(
            name="fixed",
            mode="open",
            rate=rate,
            duration_s=self.profile.fixed_s,
            pre_vus=max(10, min(rate, 300)),
            max_vus=max(50, min(rate * 10, 3000)),
            graceful_stop_s=SLOW_REQUEST_GRACE_S,
            raw_output=True,
            dashboard=self.profile.dashboard_export,
        )
        self.ensure_tokens(phase.measured_s() + 30)
        self.wait_idle()
        self.postgres.reset_statements()
        cache_before = self.redis.snapshot()
        result = self.run(phase, probes=probes)
        rows = self.postgres.statements()
        cache_after = self.redis.snapshot()
        requests = max(result["metrics"]["requests"], 1)
        counted = count_statements(rows)
        samples = result["samples"]
        connections = [sum(reading.values()) for reading in _series(samples, "db_connections")]
        evidence = {
            "db": {
                **counted,
                "requests": result["metrics"]["requests"],
                "statements_per_request": counted["statements"] / requests,
                "queries_per_request": counted["queries"] / requests,
                "top_statements": rows[:40],
            },
            "cache": cache_delta(cache_before, cache_after),
            "connections": spread([float(value) for value in connections]),
            "services_cpu_percent": spread(_series(samples, "services_cpu")[1:]),
            "services_rss_bytes": spread(_series(samples, "services_rss")),
        }
        ui.phase_line(self.layout, "fixed load", result)
        return result, evidence

    def saturation(self) -> Json:
        """Drive the layout with a fixed number of closed-loop users for its peak throughput."""
        phase = Phase(
            name="saturation",
            mode="closed",
            vus=self.profile.saturation_vus,
            ramp_s=self.profile.saturation_ramp_s,
            duration_s=self.profile.saturation_s,
            graceful_stop_s=SLOW_REQUEST_GRACE_S,
            raw_output=True,
            dashboard=self.profile.dashboard_export,
        )
        self.wait_idle()
        result = self.run(phase)
        ui.phase_line(self.layout, "saturation", result)
        return result

    def wait_idle(self) -> float:
        """Wait until a dashboard request is as fast as on an idle stack (drain any backlog)."""
        started = time.monotonic()
        fast_ms = max(self.criteria.p95_ms, 1.5 * self.alone_ms)
        token = self.users()[0]["token"]
        fast = 0
        with httpx.Client(base_url=self.target.base_url, timeout=30.0) as client:
            while time.monotonic() - started < self.profile.idle_wait_s and fast < 2:
                begun = time.monotonic()
                try:
                    client.get("/v1/me/dashboard", headers={"Authorization": f"Bearer {token}"})
                except httpx.HTTPError:
                    fast = 0
                    wait_seconds(0.5)
                    continue
                fast = fast + 1 if (time.monotonic() - begun) * 1000 < fast_ms else 0
                wait_seconds(0.2)
        return time.monotonic() - started

    def measure(self, *, repeat: int, fixed_rate: int | None, search_start: int) -> Json:
        """Run every phase and return the run record (fixed_rate None: the sustainable rate)."""
        started = now()
        warmup = self.warm_up()
        probe = self.probe()
        search = self.search(search_start)
        if fixed_rate is None:
            fixed_rate = max(search["sustainable_rps"], self.profile.search_min_rate)
        fixed, fixed_evidence = self.fixed_load(fixed_rate)
        processes = supervised(self.stack)
        memory = memory_snapshot(processes)
        # Each type alone, at a moderate rate the layout sustains (cost_run.cost_rate).
        rate = cost_rate(self.profile, search["sustainable_rps"])
        cost = measure_costs(self, rate) if self.cost else None
        profiles = profiled_run(self, fixed_rate) if self.profile.profiles else None
        saturation = self.saturation()
        return {
            "layout": self.layout,
            "repeat": repeat,
            "started_at": started,
            "finished_at": now(),
            "stack": {
                "base_url": self.target.base_url,
                "pool_size": self.target.pool_size,
                "user_count": self.target.user_count,
                "postgres_version": self.postgres.version(),
                "redis_version": self.redis.snapshot()["version"],
                "processes": sorted(processes),
            },
            "phases": {"warmup": warmup, "fixed": fixed, "saturation": saturation},
            "search": search,
            "evidence": {
                "probe": probe,
                "fixed_load": fixed_evidence,
                "memory": memory,
                "cost": cost,
                "profiles": profiles,
            },
            "warnings": self.warnings,
        }


def _series(samples: list[Json], name: str) -> list[Any]:
    return [sample[name] for sample in samples if sample.get(name) is not None]
