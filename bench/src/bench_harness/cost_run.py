"""Measure what each request type costs the stack in CPU: one fixed-rate run per type, alone.

The window opens before k6 starts and closes once the stack is quiet again: the Celery queue is
empty (nothing waiting, nothing in a worker's hand) and the stack's CPU is back at its idle rate
for two readings in a row. So the background work a request leaves behind (a report's PDF, its
email and webhook) is inside the window, as the worker's CPU. Over the window the CPU (user +
system) of every process of the stack is summed per component: the layout's services and their
children, the Celery worker, PostgreSQL (the postmaster's tree: every backend) and Redis. k6's
own CPU is read separately (k6run.py). cost.py turns these into CPU-ms per request.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from bench_harness import ui
from bench_harness.cost import effective_mix, summarise_cost
from bench_harness.k6run import SLOW_REQUEST_GRACE_S, K6Error, Phase
from bench_harness.k6run import wait_seconds as _wait
from bench_harness.paths import mix_weights
from bench_harness.system import is_service, pid_of, supervised, tree_cpu_s

Json = dict[str, Any]
SETTLE_INTERVAL_S = 0.5
SETTLE_MARGIN = 0.05  # CPU-seconds per second above the idle rate that still counts as quiet
QUIET_READINGS = 2


def component_of(program: str) -> str:
    """Return the cost component a supervised program belongs to."""
    lowered = program.lower()
    for infra in ("postgres", "redis"):
        if infra in lowered:
            return infra
    if not is_service(program):
        return "third_party"
    return "worker" if "worker" in lowered else "services"


def stack_roots(stack: Any) -> tuple[dict[str, list[int]], list[str]]:
    """Return component -> root pids of a running stack, and notes on what was not found.

    PostgreSQL and Redis run under the embedded infra's own supervisor
    (`stack.infra.embedded.supervisor`); with Docker or external servers they have no pid here.
    """
    roots: dict[str, list[int]] = {}
    for name, handle in supervised(stack).items():
        pid = pid_of(handle)
        if pid is not None:
            roots.setdefault(component_of(name), []).append(pid)
    infra = getattr(stack, "infra", None)
    servers = getattr(getattr(infra, "embedded", None), "supervisor", None)
    for name in ("postgres", "redis"):
        if name in roots or servers is None:
            continue
        try:
            roots[name] = [int(servers.pid(name))]
        except Exception:  # not started, or already gone: left out, and said so below
            continue
    missing = [name for name in ("postgres", "redis") if name not in roots]
    notes = []
    if missing:
        kind = getattr(infra, "kind", "unknown")
        notes.append(f"cost: {' and '.join(missing)} CPU not measured (no pid on {kind} infra)")
    return roots, notes


def cpu_seconds(roots: dict[str, list[int]]) -> dict[str, float]:
    """Return each component's CPU seconds so far (its process trees, reaped children included)."""
    return {name: sum(tree_cpu_s(pid) for pid in pids) for name, pids in roots.items()}


def delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """Return the CPU seconds each component used between two readings."""
    return {name: after.get(name, 0.0) - value for name, value in before.items()}


def stack_total(cpu: dict[str, float]) -> float:
    """Return the stack's CPU seconds (third-party stand-ins left out)."""
    return sum(value for name, value in cpu.items() if name != "third_party")


class CostMeter:
    """Open and close CPU windows over one stack's processes."""

    def __init__(self, roots: dict[str, list[int]], backlog: Callable[[], int]) -> None:
        self.roots = roots
        self.backlog = backlog
        self.idle_rate = 0.0  # the stack's CPU-seconds per second with no traffic

    def idle(self, seconds: float) -> Json:
        """Measure the stack's background CPU over `seconds` with no traffic."""
        before, started = cpu_seconds(self.roots), time.monotonic()
        _wait(seconds)
        used = delta(before, cpu_seconds(self.roots))
        window = time.monotonic() - started
        self.idle_rate = stack_total(used) / window if window > 0 else 0.0
        return {"window_s": window, "cpu_s": used}

    def window(self, run: Callable[[], Json], *, max_drain_s: float) -> tuple[Json, Json]:
        """Run `run()` (a k6 phase) inside a CPU window; return its result and the window."""
        before, started = cpu_seconds(self.roots), time.monotonic()
        result = run()
        ran_s = time.monotonic() - started
        drained = self.drain(max_drain_s)
        used = delta(before, cpu_seconds(self.roots))
        return result, {
            "window_s": time.monotonic() - started,
            "drain_s": time.monotonic() - started - ran_s,
            "drained": drained,
            "cpu_s": used,
        }

    def drain(self, max_s: float) -> bool:
        """Wait until the queue is empty and the CPU is back at idle; False when it never was."""
        started = time.monotonic()
        previous, at = stack_total(cpu_seconds(self.roots)), started
        quiet = 0
        while time.monotonic() - started < max_s:
            _wait(SETTLE_INTERVAL_S)
            now, total = time.monotonic(), stack_total(cpu_seconds(self.roots))
            rate = (total - previous) / max(now - at, 1e-6)
            previous, at = total, now
            settled = self.backlog() == 0 and rate <= self.idle_rate + SETTLE_MARGIN
            quiet = quiet + 1 if settled else 0
            if quiet >= QUIET_READINGS:
                return True
        return False


def cost_rate(profile: Any, sustainable_rps: float) -> int:
    """Return the rate each type is measured at: the profile's moderate one, capped at what the
    layout sustains (a rate it cannot serve measures a queue, not a cost), at least the floor."""
    return int(max(profile.search_min_rate, min(profile.fixed_rate_default, sustainable_rps)))


def cost_phase(name: str, rate: int, seconds: float, grace_s: float) -> Phase:
    """Return the fixed-rate run of one request type alone."""
    return Phase(
        name=f"cost-{name}",
        mode="open",
        rate=rate,
        duration_s=seconds,
        pre_vus=max(5, min(rate, 100)),
        max_vus=max(20, min(rate * 10, 1000)),
        graceful_stop_s=grace_s,
        only=name,
    )


def type_entry(result: Json, window: Json) -> Json:
    """Return what the result file keeps of one type's run."""
    measured = result["metrics"]
    return {
        **window,
        "requests": measured["requests"],
        "rps": measured["rps"],
        "errors": measured["errors"],
        "rate_limited": measured["rate_limited"],
        "dropped_iterations": measured["dropped_iterations"],
        "p95_ms": measured["latency_ms"]["p95"],
        "k6_cpu_s": result["loadgen"].get("cpu_s"),
    }


def measure_costs(session: Any, rate: int) -> Json | None:
    """Run each request type alone on the session's stack inside a CPU window (None: skipped).

    `session` is a LayoutSession: its stack, profile, target, `only`, Redis witness, warnings,
    and its `ensure_tokens`, `wait_idle` and `run` (one k6 phase) are used.
    """
    profile = session.profile
    if profile.cost_s <= 0:
        return None
    roots, notes = stack_roots(session.stack)
    session.warnings.extend(notes)
    meter = CostMeter(roots, getattr(session.redis, "backlog", lambda: 0))
    max_drain_s = profile.idle_wait_s + 3 * profile.cost_s
    session.ensure_tokens(profile.cost_idle_s + max_drain_s + 60)
    session.wait_idle()
    meter.drain(max_drain_s)  # the fixed load's reports may still be rendering
    idle = meter.idle(profile.cost_idle_s)
    types: Json = {}
    for name in session.only or list(mix_weights()):
        phase = cost_phase(name, rate, profile.cost_s, SLOW_REQUEST_GRACE_S)
        # Tokens first: a login run inside the window would be counted as the type's cost.
        session.ensure_tokens(phase.measured_s() + SLOW_REQUEST_GRACE_S + max_drain_s + 30)
        session.wait_idle()
        try:
            result, window = meter.window(partial(session.run, phase), max_drain_s=max_drain_s)
        except K6Error as error:
            session.warnings.append(f"cost-{name} failed: {str(error)[:300]}")
            continue
        types[name] = type_entry(result, window)
        if not window["drained"]:
            session.warnings.append(
                f"cost-{name}: the stack was still busy {max_drain_s:g}s after the run; "
                "its window was closed anyway, so the cost is a lower bound"
            )
    record = {
        "rate": rate,
        "duration_s": profile.cost_s,
        "cores": len(os.sched_getaffinity(0)),
        "only": session.only,
        "mix": effective_mix(mix_weights(), session.only),
        "components": sorted(roots),
        "idle": idle,
        "types": types,
    }
    _print(session.layout, record)
    return record


def _print(layout: str, record: Json) -> None:
    summary = summarise_cost(record)
    if summary is None:
        return
    weighted = summary["weighted"]

    def show(value: float | None, unit: str) -> str:
        return "-" if value is None else f"{value:.2f} {unit}"

    predicted = summary["predicted_rps"]
    ui.console.print(
        f"  [bold]{layout}[/] cost: {show(weighted['stack_net_ms'], 'CPU-ms')} per request "
        f"(mix-weighted, idle background out), k6 {show(weighted['k6_ms'], 'CPU-ms')}; "
        f"predicted {'-' if predicted is None else f'{predicted:.0f}'} req/s "
        f"on {summary['cores']} cores"
    )
