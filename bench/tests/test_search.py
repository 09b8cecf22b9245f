"""The step search on a simulated server whose p95 crosses the target at a known rate."""

from __future__ import annotations

from typing import Any

from bench_harness.search import Criteria, SearchPlan, next_rate, step_search

PLAN = SearchPlan(start_rate=10, min_rate=2, max_rate=5000, max_steps=20, tolerance=0.1)


def server(capacity: int) -> Any:
    criteria = Criteria()

    def measure(rate: int) -> dict[str, Any]:
        p95 = 50.0 if rate <= capacity else 5000.0
        metrics = {"latency_ms": {"p95": p95}, "error_rate": 0.0, "dropped_ratio": 0.0}
        metrics["requests"] = rate * 10
        return {"target_rate": rate, "verdict": criteria.judge(metrics)}

    return measure


def test_search_brackets_the_capacity_within_the_tolerance() -> None:
    result = step_search(server(345), PLAN)
    assert result["converged"]
    assert result["sustainable_rps"] <= 345 < result["lowest_failing_rps"]
    assert result["lowest_failing_rps"] <= result["sustainable_rps"] * 1.1
    rates = [step["target_rate"] for step in result["steps"]]
    assert rates[:6] == [10, 20, 40, 80, 160, 320]


def test_search_goes_down_when_the_start_rate_already_fails() -> None:
    result = step_search(server(3), PLAN)
    assert result["sustainable_rps"] == 3
    assert [step["target_rate"] for step in result["steps"]][:3] == [10, 5, 2]


def test_search_reports_zero_when_nothing_passes() -> None:
    result = step_search(server(0), PLAN)
    assert result["sustainable_rps"] == 0
    assert result["converged"]


def test_search_stops_at_the_step_budget_and_the_ceiling() -> None:
    budget = SearchPlan(start_rate=10, min_rate=2, max_rate=5000, max_steps=3, tolerance=0.1)
    assert len(step_search(server(10_000), budget)["steps"]) == 3
    assert next_rate(5000, None, PLAN) is None


def test_criteria_name_each_failure() -> None:
    metrics = {"latency_ms": {"p95": 150.0}, "error_rate": 0.02, "dropped_ratio": 0.1}
    verdict = Criteria().judge(metrics | {"requests": 100})
    assert verdict == {
        "p95_ok": True,
        "errors_ok": False,
        "dropped_ok": False,
        "served": True,
        "passed": False,
    }
