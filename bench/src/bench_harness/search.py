"""The step search for the sustainable rate, kept free of k6 so it can be tested alone.

A rate passes when its constant-arrival-rate step kept p95 within the target, errors under the
limit and (almost) no iteration dropped. The search doubles from a start rate until a step fails
(or halves until one passes), then bisects geometrically between the highest pass and the lowest
failure until they are within the tolerance.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Json = dict[str, Any]


@dataclass(frozen=True)
class Criteria:
    p95_ms: float = 200.0
    max_error_rate: float = 0.01
    max_dropped_ratio: float = 0.005

    def judge(self, measured: Json) -> Json:
        """Return which criteria the step's metrics met, and whether it passed."""
        p95 = measured["latency_ms"].get("p95")
        verdict = {
            "p95_ok": p95 is not None and p95 <= self.p95_ms,
            "errors_ok": measured["error_rate"] < self.max_error_rate,
            "dropped_ok": measured["dropped_ratio"] <= self.max_dropped_ratio,
            "served": measured["requests"] > 0,
        }
        verdict["passed"] = all(verdict.values())
        return verdict


@dataclass(frozen=True)
class SearchPlan:
    start_rate: int
    min_rate: int
    max_rate: int
    max_steps: int
    tolerance: float


def next_rate(best_pass: int | None, lowest_fail: int | None, plan: SearchPlan) -> int | None:
    """Return the next rate to try, or None when the bracket is tight enough or out of range."""
    if best_pass is None and lowest_fail is None:
        return plan.start_rate
    if best_pass is None:
        assert lowest_fail is not None
        if lowest_fail <= plan.min_rate:
            return None
        return max(plan.min_rate, lowest_fail // 2)
    if lowest_fail is None:
        if best_pass >= plan.max_rate:
            return None
        return min(plan.max_rate, best_pass * 2)
    if lowest_fail <= best_pass * (1 + plan.tolerance) or lowest_fail - best_pass <= 1:
        return None
    middle = round(math.sqrt(best_pass * lowest_fail))
    return min(max(middle, best_pass + 1), lowest_fail - 1)


def step_search(measure: Callable[[int], Json], plan: SearchPlan) -> Json:
    """Search with `measure(rate) -> step` (a step carries a `verdict` with `passed`)."""
    best_pass: int | None = None
    lowest_fail: int | None = None
    steps: list[Json] = []
    while len(steps) < plan.max_steps:
        rate = next_rate(best_pass, lowest_fail, plan)
        if rate is None:
            break
        step = measure(rate)
        steps.append(step)
        if step["verdict"]["passed"]:
            best_pass = rate if best_pass is None else max(best_pass, rate)
        else:
            lowest_fail = rate if lowest_fail is None else min(lowest_fail, rate)
    return {
        "sustainable_rps": best_pass or 0,
        "lowest_failing_rps": lowest_fail,
        "converged": next_rate(best_pass, lowest_fail, plan) is None,
        "steps": steps,
    }
