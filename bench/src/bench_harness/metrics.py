"""Turn k6's outputs into the numbers a result file keeps.

The summary (handleSummary JSON) gives the run's totals and percentiles; the raw `--out json`
stream gives per-request points, reduced here to one-second buckets (count, errors, p50/p95/p99)
and a log-spaced latency histogram, which is what the report plots.
"""

from __future__ import annotations

import gzip
import math
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

Json = dict[str, Any]

MIX = "{scenario:mix}"
LATENCY_KEYS = {"avg": "avg", "min": "min", "p50": "p(50)", "p90": "p(90)", "p95": "p(95)"}
LATENCY_KEYS |= {"p99": "p(99)", "max": "max"}
HISTOGRAM_EDGES_MS = [round(10 ** (exponent / 10), 3) for exponent in range(-10, 50)]


def _values(summary: Json, metric: str) -> Json:
    entry = summary.get("metrics", {}).get(metric)
    return dict(entry["values"]) if entry else {}


def _latency(values: Json) -> Json:
    return {key: values.get(source) for key, source in LATENCY_KEYS.items()}


def summarize(summary: Json, *, measured_s: float) -> Json:
    """Return the headline metrics of one k6 run from its summary (the mix scenario only)."""
    requests = int(_values(summary, f"http_reqs{MIX}").get("count", 0))
    failed = _values(summary, f"http_req_failed{MIX}")
    dropped = int(_values(summary, "dropped_iterations").get("count", 0))
    scheduled = requests + dropped
    return {
        "requests": requests,
        "rps": requests / measured_s if measured_s > 0 else 0.0,
        "latency_ms": _latency(_values(summary, f"http_req_duration{MIX}")),
        "error_rate": float(failed.get("rate", 0.0)),
        "errors": int(failed.get("passes", 0)),
        "dropped_iterations": dropped,
        "dropped_ratio": dropped / scheduled if scheduled else 0.0,
        "checks_rate": _values(summary, "checks").get("rate"),
        "vus_max": _values(summary, "vus_max").get("max"),
        "rate_limited": int(_values(summary, "rate_limited").get("count", 0)),
    }


def endpoints(summary: Json) -> Json:
    """Return per-endpoint request count, latency and error rate from the tagged submetrics."""
    found: Json = {}
    for metric in summary.get("metrics", {}):
        if not metric.startswith("http_req_duration{endpoint:"):
            continue
        name = metric[len("http_req_duration{endpoint:") : -1]
        latency = _values(summary, metric)
        failed = _values(summary, f"http_req_failed{{endpoint:{name}}}")
        found[name] = {
            "requests": int(latency.get("count", 0)),
            "latency_ms": _latency(latency),
            "error_rate": float(failed.get("rate", 0.0)),
        }
    return found


def _epoch(timestamp: str) -> float:
    # k6 writes nanoseconds ("...:15.491467021Z"); datetime takes at most microseconds.
    head, _, fraction = timestamp.rstrip("Z").partition(".")
    seconds = datetime.fromisoformat(head + "+00:00").timestamp()
    return seconds + (float("0." + fraction) if fraction else 0.0)


def read_points(path: Path) -> Iterator[tuple[float, float, bool]]:
    """Yield (epoch seconds, duration ms, failed) for each request of the mix in a raw k6 file."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as stream:
        for line in stream:
            if b'"http_req_duration"' not in line or b'"Point"' not in line:
                continue
            point = orjson.loads(line)
            data = point["data"]
            tags = data.get("tags") or {}
            if tags.get("scenario") != "mix":
                continue
            failed = tags.get("expected_response") == "false"
            yield _epoch(data["time"]), float(data["value"]), failed


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Return the linear-interpolated percentile of already sorted values."""
    if not sorted_values:
        return math.nan
    position = (len(sorted_values) - 1) * fraction
    low = math.floor(position)
    high = min(low + 1, len(sorted_values) - 1)
    weight = position - low
    return sorted_values[low] * (1 - weight) + sorted_values[high] * weight


def reduce_points(points: Iterable[tuple[float, float, bool]]) -> Json:
    """Reduce raw points to one-second buckets and a histogram (what the report plots)."""
    buckets: dict[int, list[float]] = {}
    errors: dict[int, int] = {}
    histogram = [0] * (len(HISTOGRAM_EDGES_MS) + 1)
    start: float | None = None
    for when, duration, failed in sorted(points):
        if start is None:
            start = when
        second = int(when - start)
        buckets.setdefault(second, []).append(duration)
        errors[second] = errors.get(second, 0) + int(failed)
        histogram[_bin(duration)] += 1
    series = []
    for second in sorted(buckets):
        values = sorted(buckets[second])
        series.append(
            {
                "t": second,
                "count": len(values),
                "errors": errors[second],
                "p50": percentile(values, 0.50),
                "p95": percentile(values, 0.95),
                "p99": percentile(values, 0.99),
            }
        )
    return {
        "timeseries": series,
        "histogram": {"edges_ms": HISTOGRAM_EDGES_MS, "counts": histogram},
    }


def _bin(duration_ms: float) -> int:
    for index, edge in enumerate(HISTOGRAM_EDGES_MS):
        if duration_ms < edge:
            return index
    return len(HISTOGRAM_EDGES_MS)


def steady_rps(series: list[Json], *, skip_s: float) -> float | None:
    """Return the mean requests per second after `skip_s` (a ramp), without the last bucket."""
    window = [bucket["count"] for bucket in series if bucket["t"] >= skip_s][:-1]
    return sum(window) / len(window) if window else None
