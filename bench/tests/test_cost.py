"""The cost model: CPU deltas -> CPU-ms per request, the mix's weighting, the prediction, and the
CPU window over real processes."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from typing import Any

import pytest
from bench_harness import cost_run
from bench_harness.cost import (
    effective_mix,
    predicted_rps,
    summarise_cost,
    type_cost,
    weighted,
)
from bench_harness.cost_run import CostMeter, component_of, stack_roots
from bench_harness.system import tree_cpu_s


def _entry(requests: int, window_s: float, k6: float, **cpu: float) -> dict[str, Any]:
    return {"requests": requests, "window_s": window_s, "cpu_s": cpu, "k6_cpu_s": k6}


def test_type_cost_divides_each_component_and_takes_the_idle_background_out() -> None:
    entry = _entry(200, 10.0, 0.4, services=1.0, worker=0.2, postgres=0.6, redis=0.2)
    entry["cpu_s"]["third_party"] = 5.0  # stand-ins: recorded, outside the stack
    idle = {"services": 0.01, "postgres": 0.01, "third_party": 1.0}  # CPU-s per second

    cost = type_cost(entry, idle)

    assert cost["components_ms"] == pytest.approx(
        {"services": 5.0, "worker": 1.0, "postgres": 3.0, "redis": 1.0}
    )
    assert cost["stack_ms"] == pytest.approx(10.0)  # 2.0 CPU-s / 200 requests
    assert cost["stack_net_ms"] == pytest.approx(9.0)  # minus 0.02 CPU-s/s x 10 s
    assert cost["k6_ms"] == pytest.approx(2.0)


def test_type_cost_without_requests_is_unknown_not_zero() -> None:
    cost = type_cost(_entry(0, 3.0, 0.1, services=0.5), {})
    assert cost["stack_ms"] is None and cost["k6_ms"] is None


def test_effective_mix_follows_the_weights_or_only_uniformly() -> None:
    weights = {"dashboard": 50.0, "me": 30.0, "login": 20.0, "unused": 0.0}
    assert effective_mix(weights) == pytest.approx({"dashboard": 0.5, "me": 0.3, "login": 0.2})
    # k6 draws the ONLY types uniformly (lib/mix.js), whatever their weights
    assert effective_mix(weights, ["dashboard", "login"]) == {"dashboard": 0.5, "login": 0.5}


def test_weighted_needs_every_type_of_the_mix() -> None:
    mix = {"dashboard": 0.75, "me": 0.25}
    assert weighted({"dashboard": 4.0, "me": 8.0}, mix) == pytest.approx(5.0)
    assert weighted({"dashboard": 4.0, "me": None}, mix) is None
    assert weighted({"dashboard": 4.0}, mix) is None


def test_prediction_is_cores_over_cpu_seconds_with_and_without_k6() -> None:
    assert predicted_rps(2, 5.0) == pytest.approx(400.0)  # 2 CPU-s/s / 0.005 CPU-s
    assert predicted_rps(2, 5.0, 3.0) == pytest.approx(250.0)  # k6's CPU shares the cores
    assert predicted_rps(None, 5.0) is None
    assert predicted_rps(2, None) is None


def test_summarise_cost_from_a_run_record() -> None:
    record = {
        "rate": 50,
        "cores": 2,
        "mix": {"dashboard": 0.5, "create_report": 0.5},
        "idle": {"window_s": 4.0, "cpu_s": {"services": 0.04, "worker": 0.0}},
        "types": {
            "dashboard": _entry(100, 5.0, 0.1, services=0.35, worker=0.0),
            "create_report": _entry(100, 5.0, 0.3, services=0.25, worker=0.5),
        },
    }

    summary = summarise_cost(record)

    assert summary is not None
    # per type: (cpu - 0.01 CPU-s/s x 5 s) / 100 -> dashboard 3.0 ms, create_report 7.0 ms
    assert summary["types"]["dashboard"]["stack_net_ms"] == pytest.approx(3.0)
    assert summary["types"]["create_report"]["stack_ms"] == pytest.approx(7.5)
    assert summary["weighted"]["stack_net_ms"] == pytest.approx(5.0)
    assert summary["weighted"]["components_ms"]["worker"] == pytest.approx(2.5)
    assert summary["weighted"]["k6_ms"] == pytest.approx(2.0)
    assert summary["predicted_rps"] == pytest.approx(400.0)
    assert summary["predicted_rps_with_k6"] == pytest.approx(2000 / 7)
    assert summary["idle_cpu_percent"] == pytest.approx({"services": 1.0, "worker": 0.0})
    assert summarise_cost(None) is None
    assert summarise_cost({"types": {}}) is None


def test_programs_map_to_components() -> None:
    assert component_of("core_api") == "services"
    assert component_of("jobs_worker") == "worker"
    assert component_of("postgres") == "postgres"
    assert component_of("smtp_sink") == "third_party"
    assert component_of("webhook_receiver") == "third_party"


class _Servers:
    def pid(self, name: str) -> int:
        if name == "redis":
            raise KeyError(name)
        return 4242


def test_stack_roots_finds_the_embedded_servers_and_says_what_is_missing() -> None:
    from types import SimpleNamespace

    stack = SimpleNamespace(
        supervisor=SimpleNamespace(processes={"core_api": 11, "jobs_worker": 12, "smtp_sink": 13}),
        infra=SimpleNamespace(kind="embedded", embedded=SimpleNamespace(supervisor=_Servers())),
    )
    roots, notes = stack_roots(stack)
    assert roots == {
        "services": [11],
        "worker": [12],
        "third_party": [13],
        "postgres": [4242],
    }
    assert notes == ["cost: redis CPU not measured (no pid on embedded infra)"]


def test_a_reaped_childs_cpu_still_counts_in_its_parents_tree() -> None:
    before = tree_cpu_s(os.getpid())
    reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-c", "sum(range(5_000_000))"], check=True)
    after_usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    child_s = (after_usage.ru_utime + after_usage.ru_stime) - (reaped.ru_utime + reaped.ru_stime)

    assert child_s > 0
    # /proc counts in clock ticks: allow one tick each for user and system
    assert tree_cpu_s(os.getpid()) - before >= child_s - 0.02


def test_the_window_counts_the_cpu_used_in_it_and_waits_for_quiet() -> None:
    meter = CostMeter({"services": [os.getpid()]}, backlog=lambda: 0)
    used: dict[str, float] = {}

    def work() -> dict[str, Any]:
        started = time.process_time()
        sum(range(3_000_000))
        used["cpu_s"] = time.process_time() - started
        return {"metrics": {}}

    result, window = meter.window(work, max_drain_s=30)

    assert result == {"metrics": {}}
    assert window["drained"] is True
    assert window["cpu_s"]["services"] >= used["cpu_s"] - 0.02
    assert window["window_s"] >= window["drain_s"] > 0


def test_the_window_closes_anyway_when_the_queue_never_empties(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cost_run, "_wait", lambda seconds: None)
    meter = CostMeter({"services": [os.getpid()]}, backlog=lambda: 3)

    _, window = meter.window(lambda: {}, max_drain_s=0.05)

    assert window["drained"] is False


def test_each_type_is_measured_at_a_rate_the_layout_sustains() -> None:
    from bench_harness.cost_run import cost_rate
    from bench_harness.profiles import PROFILES

    quick = PROFILES["quick"]
    assert cost_rate(quick, 400) == quick.fixed_rate_default  # the moderate rate
    assert cost_rate(quick, 7) == 7  # never above what the layout sustains
    assert cost_rate(quick, 0) == quick.search_min_rate  # one that sustains none: the floor
