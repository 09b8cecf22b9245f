"""PNG plots of a report, drawn with matplotlib's Agg backend (no display needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)

from bench_harness.figures import BY_KEY, median  # noqa: E402

Json = dict[str, Any]
COLOURS = {"before": "#c0392b", "after": "#2471a3", "after-aa": "#7fb3d5"}
BAR_FIGURES = (
    "sustainable_rps",
    "fixed_p95_ms",
    "db_queries_per_dashboard",
    "hops_dashboard",
    "total_rss_mb",
    "total_pss_mb",
)


def _first_run_phase(layouts: Json, layout: str, phase: str) -> Json | None:
    runs = layouts.get(layout) or []
    for run in runs:
        found = (run.get("phases") or {}).get(phase)
        if found and found.get("timeseries"):
            return dict(found)
    return None


def latency_over_time(layouts: Json, phase: str, path: Path) -> Path | None:
    """Plot p50/p95/p99 per second of one phase, one panel per layout (log scale)."""
    panels: list[tuple[str, Json]] = []
    for name in layouts:
        found = _first_run_phase(layouts, name, phase)
        if found:
            panels.append((name, found))
    if not panels:
        return None
    figure, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 4), squeeze=False)
    for axis, (name, found) in zip(axes[0], panels, strict=True):
        series = found["timeseries"]
        seconds = [bucket["t"] for bucket in series]
        for stat, style in (("p50", ":"), ("p95", "-"), ("p99", "--")):
            values = [bucket[stat] for bucket in series]
            axis.plot(seconds, values, style, color=COLOURS.get(name), label=stat)
        axis.set_yscale("log")
        axis.set_title(f"{name}: {phase} ({found['metrics']['rps']:.0f} req/s)")
        axis.set_xlabel("seconds")
        axis.set_ylabel("latency (ms)")
        axis.grid(True, which="both", alpha=0.3)
        axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def latency_distribution(layouts: Json, phase: str, path: Path) -> Path | None:
    """Plot the latency histograms of one phase, layouts overlaid (log-spaced bins)."""
    figure, axis = plt.subplots(figsize=(8, 4))
    drawn = False
    for name in layouts:
        found = _first_run_phase(layouts, name, phase)
        if not found or not found.get("histogram"):
            continue
        histogram = found["histogram"]
        edges = [edge / 2 for edge in histogram["edges_ms"][:1]] + histogram["edges_ms"]
        counts = histogram["counts"]
        total = sum(counts) or 1
        shares = [count / total for count in counts]
        axis.stairs(shares[: len(edges) - 1], edges, color=COLOURS.get(name), label=name)
        drawn = True
    if not drawn:
        plt.close(figure)
        return None
    axis.set_xscale("log")
    axis.set_xlabel("latency (ms)")
    axis.set_ylabel("share of requests")
    axis.set_title(f"Latency distribution ({phase} phase)")
    axis.legend()
    axis.grid(True, which="both", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def before_after_bars(summary: Json, path: Path) -> Path | None:
    """Plot the headline figures of each layout side by side (medians, min-max whiskers)."""
    names = [name for name in ("before", "after") if name in summary]
    if not names:
        return None
    figure, axes = plt.subplots(1, len(BAR_FIGURES), figsize=(3.2 * len(BAR_FIGURES), 3.8))
    for axis, key in zip(axes, BAR_FIGURES, strict=True):
        spec = BY_KEY[key]
        values = [median(summary[name], key) or 0.0 for name in names]
        low = [values[i] - (summary[n][key]["min"] or 0.0) for i, n in enumerate(names)]
        high = [(summary[n][key]["max"] or 0.0) - values[i] for i, n in enumerate(names)]
        axis.bar(names, values, color=[COLOURS[name] for name in names], yerr=[low, high])
        axis.set_title(spec.label, fontsize=9)
        axis.set_ylabel(spec.unit)
        for index, value in enumerate(values):
            axis.annotate(f"{value:.3g}", (index, value), ha="center", va="bottom", fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def search_steps(layouts: Json, p95_ms: float, path: Path) -> Path | None:
    """Plot p95 against the arrival rate of every search step, with the target line."""
    figure, axis = plt.subplots(figsize=(8, 4))
    drawn = False
    for name, runs in layouts.items():
        points = sorted(
            (step["target_rate"], step["metrics"]["latency_ms"]["p95"])
            for run in runs
            for step in run["search"]["steps"]
            if step["metrics"]["latency_ms"].get("p95") is not None
        )
        if points:
            rates, p95s = zip(*points, strict=True)
            axis.plot(rates, p95s, "o-", color=COLOURS.get(name), label=name)
            drawn = True
    if not drawn:
        plt.close(figure)
        return None
    axis.axhline(p95_ms, color="grey", linestyle="--", label=f"p95 target {p95_ms:g} ms")
    axis.set_xscale("log")
    axis.set_yscale("log")
    axis.set_xlabel("arrival rate (req/s)")
    axis.set_ylabel("p95 (ms)")
    axis.set_title("Step search")
    axis.legend()
    axis.grid(True, which="both", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
