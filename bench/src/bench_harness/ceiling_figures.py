"""The framework ceiling's figures, and each layout's rates as a fraction of the FastAPI app's.

Read from a result file's `ceiling` section (ceiling.py) and its layout summaries, for the
report and for compare (which shows these rows, never gated: a ceiling is the machine's, not a
change's).
"""

from __future__ import annotations

from typing import Any

from bench_harness.figures import Figure, dig, good_rps, median

Json = dict[str, Any]
APP_LABELS = {"fastapi": "FastAPI, one plain route", "asgi": "raw ASGI, same bytes"}


def _ceiling(app: str, *path: str) -> Any:
    return lambda ceiling: dig(ceiling, app, *path)


def _peak(app: str) -> Any:
    return lambda ceiling: good_rps(dig(ceiling, app, "saturation", "metrics"))


CEILING_FIGURES: list[Figure] = []
for _app, _name in (("fastapi", "FastAPI"), ("asgi", "raw ASGI")):
    CEILING_FIGURES += [
        Figure(
            f"ceiling_{_app}_sustainable_rps",
            f"{_name} ceiling: sustainable RPS",
            "req/s",
            True,
            _ceiling(_app, "search", "sustainable_rps"),
        ),
        Figure(
            f"ceiling_{_app}_peak_rps", f"{_name} ceiling: peak RPS", "req/s", True, _peak(_app)
        ),
        Figure(
            f"ceiling_{_app}_cpu_ms",
            f"{_name} ceiling: server CPU per request at peak",
            "CPU-ms",
            False,
            _ceiling(_app, "server_cpu_ms_per_request"),
        ),
    ]


def fraction(value: float | None, ceiling: float | None) -> float | None:
    """Return value / ceiling (None when either is missing or the ceiling is zero)."""
    if value is None or not ceiling:
        return None
    return value / ceiling


def ceiling_rates(ceiling: Json | None, app: str = "fastapi") -> tuple[float | None, float | None]:
    """Return an app's (sustainable RPS, peak RPS without errors) from a ceiling section."""
    if not ceiling or not ceiling.get(app):
        return None, None
    sustainable = dig(ceiling, app, "search", "sustainable_rps")
    return (
        None if sustainable is None else float(sustainable),
        good_rps(dig(ceiling, app, "saturation", "metrics")),
    )


def layout_fractions(summary: Json, ceiling: Json | None) -> list[Json]:
    """Return, per layout, its median sustainable and peak RPS and their share of FastAPI's."""
    sustainable_ceiling, peak_ceiling = ceiling_rates(ceiling)
    rows = []
    for layout, figures in summary.items():
        sustainable = median(figures, "sustainable_rps")
        peak = median(figures, "saturation_rps")
        rows.append(
            {
                "layout": layout,
                "sustainable_rps": sustainable,
                "sustainable_fraction": fraction(sustainable, sustainable_ceiling),
                "peak_rps": peak,
                "peak_fraction": fraction(peak, peak_ceiling),
            }
        )
    return rows


def _num(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def ceiling_lines(document: Json) -> list[str]:
    """Return the report's ceiling section: both apps, then each layout as a share of FastAPI."""
    ceiling = document.get("ceiling")
    if not ceiling:
        return ["Not measured in this result (a file from before the ceiling was added)."]
    runtime = ceiling.get("runtime") or {}
    lines = [
        f"Measured after the layouts on the same machine, with the same k6, profile and "
        f"criteria: `{runtime.get('command', '-')}`, {runtime.get('workers', '-')} workers "
        "(as core_api in production), one unauthenticated GET (`k6/ceiling.js`).",
        "",
        "| App | Sustainable RPS | Lowest failing step | Peak RPS | p95 at peak ms "
        "| Server CPU-ms per request | k6 CPU at peak |",
        "|---|---|---|---|---|---|---|",
    ]
    for app, label in APP_LABELS.items():
        entry = ceiling.get(app)
        if not entry:
            lines.append(f"| {label} | failed | - | - | - | - | - |")
            continue
        sustainable, peak = ceiling_rates(ceiling, app)
        saturation = entry["saturation"]
        lines.append(
            f"| {label} | {_num(sustainable)} | {_num(entry['search'].get('lowest_failing_rps'))} "
            f"| {_num(peak)} | {_num(saturation['metrics']['latency_ms'].get('p95'), 1)} "
            f"| {_num(entry.get('server_cpu_ms_per_request'), 3)} "
            f"| {_num(saturation['loadgen'].get('cpu_percent_mean'))}% |"
        )
    framework = fraction(ceiling_rates(ceiling)[1], ceiling_rates(ceiling, "asgi")[1])
    lines += [
        "",
        f"FastAPI's peak is {_percent(framework)} of the raw ASGI app's. Each layout as a share "
        "of the FastAPI ceiling (medians over repeats):",
        "",
        "| Layout | Sustainable RPS | of the FastAPI ceiling | Peak RPS | of the FastAPI peak |",
        "|---|---|---|---|---|",
    ]
    for row in layout_fractions(document["summary"], ceiling):
        lines.append(
            f"| {row['layout']} | {_num(row['sustainable_rps'])} "
            f"| {_percent(row['sustainable_fraction'])} | {_num(row['peak_rps'])} "
            f"| {_percent(row['peak_fraction'])} |"
        )
    lines += [
        "",
        "k6 runs on the same cores: at the ceiling it is often the load generator, not the app, "
        "that runs out of CPU (see the k6 CPU column), so the ceiling is a lower bound.",
    ]
    return lines


def console_lines(document: Json) -> list[str]:
    """Return the ceiling in a few plain lines, for the end of `bench_harness run`."""
    ceiling = document.get("ceiling")
    if not ceiling:
        return []
    lines = []
    for app, label in APP_LABELS.items():
        sustainable, peak = ceiling_rates(ceiling, app)
        cpu = dig(ceiling, app, "server_cpu_ms_per_request")
        lines.append(
            f"ceiling {label}: sustainable {_num(sustainable)} req/s, peak {_num(peak)} req/s, "
            f"{_num(cpu, 3)} server CPU-ms per request"
        )
    for row in layout_fractions(document["summary"], ceiling):
        lines.append(
            f"{row['layout']}: sustainable {_percent(row['sustainable_fraction'])} of the "
            f"FastAPI ceiling, peak {_percent(row['peak_fraction'])} of its peak"
        )
    return lines
