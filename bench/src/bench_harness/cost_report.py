"""The report's cost model and CPU-profile sections, recomputed from the runs (cost.py)."""

from __future__ import annotations

import os
import statistics
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from bench_harness.cost import COMPONENTS, summarise_cost

Json = dict[str, Any]
NOTE = (
    "Each request type ran alone at a fixed rate (`cost-<type>` phases). Its cost is the CPU "
    "(user + system) every process of the stack used over the run, divided by the requests "
    "served: the services and their children, the Celery worker, PostgreSQL (every backend) and "
    "Redis; third-party stand-ins left out, k6 counted apart. Background work a request leaves "
    "behind (a report's PDF, email and webhook) is counted: the worker's CPU is in the window, "
    "and each window closes only once the Celery queue is empty and the stack's CPU is back at "
    "its idle rate. The *net* rows take out the stack's idle background (measured before the "
    "runs, times the window); the predictions use them: cores / weighted CPU-s per request, and "
    "the same with k6's CPU per request added (k6 shares the cores)."
)


def _median(values: list[float | None]) -> float | None:
    found = [value for value in values if value is not None]
    return statistics.median(found) if found else None


def _fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _summaries(layouts: Json) -> dict[str, list[Json]]:
    found: dict[str, list[Json]] = {}
    for layout, runs in layouts.items():
        for run in runs:
            summary = summarise_cost((run.get("evidence") or {}).get("cost"))
            if summary is not None:
                found.setdefault(layout, []).append({**summary, "run": run})
    return found


def _type_ms(name: str, summary: Json) -> float | None:
    value = (summary["types"].get(name) or {}).get("stack_ms")
    return None if value is None else float(value)


def cost_lines(layouts: Json) -> list[str]:
    """Return the CPU-ms per request table (types x layouts), the mix and the predictions."""
    summaries = _summaries(layouts)
    if not summaries:
        return ["Not measured in these results."]
    names = list(summaries)
    types = list(dict.fromkeys(t for runs in summaries.values() for t in runs[0]["types"]))
    mix = next(iter(summaries.values()))[0]["mix"]

    def row(label: str, read: Callable[[Json], float | None], digits: int = 2) -> str:
        cells = [_fmt(_median([read(summary) for summary in summaries[n]]), digits) for n in names]
        return f"| {label} | {' | '.join(cells)} |"

    lines = [NOTE, "", f"| CPU-ms per request | {' | '.join(names)} |"]
    lines.append("|---|" + "---|" * len(names))
    for name in types:
        share = f" ({mix[name] * 100:g}% of the mix)" if name in mix else ""
        lines.append(row(f"{name}{share}", partial(_type_ms, name)))
    lines += [
        row("**mix, weighted**", lambda s: s["weighted"]["stack_ms"]),
        row("**mix, weighted, idle background out**", lambda s: s["weighted"]["stack_net_ms"]),
        row("k6 (load generator), weighted", lambda s: s["weighted"]["k6_ms"]),
        row("cores", lambda s: s["cores"], 0),
        row("**predicted sustainable RPS** (cores / net CPU)", lambda s: s["predicted_rps"], 0),
        row("predicted, k6 on the same cores", lambda s: s["predicted_rps_with_k6"], 0),
        row(
            "**measured sustainable RPS** (step search)",
            lambda s: s["run"]["search"]["sustainable_rps"],
            0,
        ),
    ]
    return lines + ["", *split_lines(summaries)]


def split_lines(summaries: dict[str, list[Json]]) -> list[str]:
    """Return the first run's costs by component, with the window each type was measured in."""
    header = " | ".join(COMPONENTS)
    lines = [
        "By component (first run of each layout, CPU-ms per request):",
        "",
        f"| Layout | Type | Requests | {header} | stack | net | k6 | window s | drained |",
        "|---|---|---|" + "---|" * len(COMPONENTS) + "---|---|---|---|---|",
    ]
    for layout, runs in summaries.items():
        summary = runs[0]
        entries = summary["run"]["evidence"]["cost"]["types"]
        for name, cost in summary["types"].items():
            entry = entries[name]
            parts = " | ".join(_fmt(cost["components_ms"].get(part)) for part in COMPONENTS)
            lines.append(
                f"| {layout} | {name} | {cost['requests']} | {parts} | {_fmt(cost['stack_ms'])} "
                f"| {_fmt(cost['stack_net_ms'])} | {_fmt(cost['k6_ms'])} "
                f"| {_fmt(entry['window_s'], 1)} | {'yes' if entry['drained'] else 'no'} |"
            )
    lines.append("")
    for layout, runs in summaries.items():
        idle = ", ".join(f"{k} {v:.1f}%" for k, v in runs[0]["idle_cpu_percent"].items())
        lines.append(f"- {layout}, idle background (% of a core): {idle or 'not measured'}")
    return lines


def profile_lines(layouts: Json, results_dir: Path | None, out: Path) -> list[str]:
    """Return links to the py-spy profiles the runs recorded (speedscope.app opens them)."""
    lines = []
    for layout, runs in layouts.items():
        for run in runs:
            profiles = (run.get("evidence") or {}).get("profiles")
            if not profiles:
                continue
            folder = Path(run.get("artifacts_dir", ""))
            for program, name in sorted(profiles["files"].items()):
                path = (results_dir / folder / name) if results_dir else folder / name
                link = os.path.relpath(path, out) if results_dir else str(path)
                lines.append(f"- {layout} run {run['repeat'] + 1}, {program}: [{name}]({link})")
            lines += [f"- {layout} run {run['repeat'] + 1}: {w}" for w in profiles["warnings"]]
    return lines
