"""The figures a result is judged by, read from one layout run, and their spread over repeats.

Report and compare both read results through these definitions only, so a figure means the same
thing in every table.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench_harness.cost import predicted_from_run, weighted_cost_ms
from bench_harness.system import service_of

Json = dict[str, Any]
MB = 1024 * 1024


def dig(run: Json, *path: str) -> Any:
    """Return the value at a key path (None when any step is missing or null)."""
    node: Any = run
    for key in path:
        if not isinstance(node, dict) or node.get(key) is None:
            return None
        node = node[key]
    return node


def _scaled(value: Any, factor: float) -> float | None:
    return None if value is None else float(value) * factor


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    unit: str
    higher_is_better: bool
    read: Callable[[Json], float | None]
    # Changes smaller than this are noise whatever the ratio (2 ms on a 5 ms p95 is not a 40% loss).
    min_abs_change: float = 0.0
    gate: bool = False


def _services(run: Json) -> float | None:
    # Counted from the supervised program names, so a worker counts with its service.
    programs = dig(run, "evidence", "memory", "per_service")
    if not programs:
        counted = dig(run, "evidence", "memory", "services")
        return None if counted is None else float(counted)
    return float(len({service_of(name) for name in programs}))


def _latency(phase: str, stat: str) -> Callable[[Json], float | None]:
    return lambda run: dig(run, "phases", phase, "metrics", "latency_ms", stat)


def _probe(request: str, figure: str) -> Callable[[Json], float | None]:
    return lambda run: dig(run, "evidence", "probe", "types", request, figure)


def good_rps(metrics: Any) -> float | None:
    """Return the requests per second that succeeded."""
    if not isinstance(metrics, dict) or metrics.get("rps") is None:
        return None
    return float(metrics["rps"]) * (1.0 - float(metrics.get("error_rate") or 0.0))


FIGURES: list[Figure] = [
    Figure(
        "sustainable_rps",
        "Sustainable RPS",
        "req/s",
        True,
        lambda run: dig(run, "search", "sustainable_rps"),
        1.0,
        gate=True,
    ),
    Figure(
        "lowest_failing_rps",
        "Lowest failing step (the search's upper bound)",
        "req/s",
        True,
        lambda run: dig(run, "search", "lowest_failing_rps"),
    ),
    Figure("fixed_p50_ms", "p50 at fixed load", "ms", False, _latency("fixed", "p50"), 2.0),
    Figure(
        "fixed_p95_ms", "p95 at fixed load", "ms", False, _latency("fixed", "p95"), 5.0, gate=True
    ),
    Figure(
        "fixed_p99_ms", "p99 at fixed load", "ms", False, _latency("fixed", "p99"), 10.0, gate=True
    ),
    Figure(
        "fixed_error_rate",
        "Errors at fixed load",
        "ratio",
        False,
        lambda run: dig(run, "phases", "fixed", "metrics", "error_rate"),
        0.005,
        gate=True,
    ),
    Figure(
        "saturation_rps",
        "Peak RPS (closed model, errors excluded)",
        "req/s",
        True,
        # Shed or failed answers are fast; counting them would reward a server for refusing.
        lambda run: good_rps(dig(run, "phases", "saturation", "metrics")),
        2.0,
        gate=True,
    ),
    Figure(
        "saturation_error_rate",
        "Errors at peak (shed with 503 or failed)",
        "ratio",
        False,
        lambda run: dig(run, "phases", "saturation", "metrics", "error_rate"),
        0.01,
    ),
    Figure("saturation_p95_ms", "p95 at peak", "ms", False, _latency("saturation", "p95"), 5.0),
    Figure(
        "db_queries_per_dashboard",
        "DB queries per dashboard request",
        "queries",
        False,
        _probe("dashboard", "pg_queries_per_request"),
        0.5,
        gate=True,
    ),
    Figure(
        "db_statements_per_dashboard",
        "DB statements per dashboard request",
        "statements",
        False,
        _probe("dashboard", "pg_statements_per_request"),
        0.5,
    ),
    Figure(
        "db_statements_per_request",
        "DB statements per request (mix, under load)",
        "statements",
        False,
        lambda run: dig(run, "evidence", "fixed_load", "db", "statements_per_request"),
        0.5,
        gate=True,
    ),
    Figure(
        "db_queries_per_request",
        "DB queries per request (mix, under load)",
        "queries",
        False,
        lambda run: dig(run, "evidence", "fixed_load", "db", "queries_per_request"),
        0.5,
    ),
    Figure(
        "hops_dashboard",
        "Internal hops per dashboard request",
        "hops",
        False,
        _probe("dashboard", "hops"),
        0.5,
    ),
    Figure(
        "hop_depth_dashboard",
        "Hop depth of a dashboard request",
        "hops",
        False,
        _probe("dashboard", "hop_depth"),
        0.5,
    ),
    Figure(
        "hops_per_request",
        "Internal hops per request (mix)",
        "hops",
        False,
        lambda run: dig(run, "evidence", "probe", "mix", "hops"),
        0.5,
    ),
    Figure(
        "cache_hit_ratio",
        "Cache hit ratio (Redis)",
        "ratio",
        True,
        lambda run: dig(run, "evidence", "fixed_load", "cache", "hit_ratio"),
        0.05,
    ),
    Figure("services", "Services", "count", False, _services),
    Figure(
        "service_processes",
        "Service processes",
        "processes",
        False,
        lambda run: dig(run, "evidence", "memory", "service_processes"),
    ),
    Figure(
        "total_rss_mb",
        "Total RSS of the services",
        "MiB",
        False,
        lambda run: _scaled(dig(run, "evidence", "memory", "total_rss_bytes"), 1 / MB),
        10.0,
        gate=True,
    ),
    Figure(
        "total_pss_mb",
        "Total PSS of the services (shared pages counted once)",
        "MiB",
        False,
        lambda run: _scaled(dig(run, "evidence", "memory", "total_pss_bytes"), 1 / MB),
        10.0,
        gate=True,
    ),
    Figure(
        "db_connections_max",
        "DB connections in use (max)",
        "connections",
        False,
        lambda run: dig(run, "evidence", "fixed_load", "connections", "max"),
        2.0,
    ),
    Figure(
        "cpu_ms_per_request",
        "Stack CPU per request (mix-weighted, each type alone, idle background out)",
        "CPU-ms",
        False,
        weighted_cost_ms,
        0.5,
    ),
    Figure(
        "predicted_rps",
        "Predicted sustainable RPS (cores / CPU per request)",
        "req/s",
        True,
        predicted_from_run,
        1.0,
    ),
    Figure(
        "loadgen_cpu_percent",
        "Load generator CPU at fixed load",
        "% of a core",
        False,
        lambda run: dig(run, "phases", "fixed", "loadgen", "cpu_percent_mean"),
        10.0,
    ),
]
BY_KEY = {figure.key: figure for figure in FIGURES}


def spread(values: list[float]) -> Json:
    """Return median, min, max and the values themselves (None everywhere when empty)."""
    if not values:
        return {"median": None, "min": None, "max": None, "values": []}
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "values": values,
    }


def summarise(runs: list[Json]) -> Json:
    """Return every figure's spread over the runs of one layout."""
    summary: Json = {}
    for figure in FIGURES:
        values = [value for value in (figure.read(run) for run in runs) if value is not None]
        summary[figure.key] = spread([float(value) for value in values])
    return summary


def median(summary: Json, key: str) -> float | None:
    """Return the median of one figure of a layout summary."""
    entry = summary.get(key) or {}
    value = entry.get("median")
    return None if value is None else float(value)
