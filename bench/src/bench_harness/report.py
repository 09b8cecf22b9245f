"""`bench_harness report`: a Markdown report with PNG plots, made from result files alone."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from bench_harness import plots
from bench_harness.ceiling_figures import ceiling_lines
from bench_harness.cost_report import cost_lines, profile_lines
from bench_harness.figures import BY_KEY, FIGURES, median
from bench_harness.reference import PUBLISHED, SOURCE
from bench_harness.results import load, merge

Json = dict[str, Any]
HEADLINE = (
    "sustainable_rps",
    "fixed_p95_ms",
    "db_queries_per_dashboard",
    "hops_dashboard",
    "hop_depth_dashboard",
    "services",
    "total_rss_mb",
    "total_pss_mb",
)


def fmt(value: float | None, unit: str = "") -> str:
    """Format a figure for a table ("-" when it was not measured)."""
    if value is None:
        return "-"
    if unit == "ratio":
        return f"{value * 100:.1f}%"
    if abs(value) >= 100 or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}"


def ratio(key: str, before: float | None, after: float | None) -> str:
    """Return how many times better after is than before ("x" factor, direction-aware)."""
    if before is None or after is None or before == 0 or after == 0:
        return "-"
    better = after / before if BY_KEY[key].higher_is_better else before / after
    return f"{better:.1f}x" if better >= 1 else f"{better:.2f}x"


def _cell(summary: Json, layout: str, key: str) -> str:
    entry = (summary.get(layout) or {}).get(key) or {}
    value = entry.get("median")
    text = fmt(value, BY_KEY[key].unit)
    if len(entry.get("values") or []) > 1:
        unit = BY_KEY[key].unit
        text += f" ({fmt(entry['min'], unit)}-{fmt(entry['max'], unit)})"
    return text


def headline_table(summary: Json, fixed_rate: Any) -> list[str]:
    """Return the published story's table shape: ours before/after, ratio, and the reference."""
    lines = [
        "| Metric | Before | After | Ratio | Published before | Published after "
        "| Published ratio |",
        "|---|---|---|---|---|---|---|",
    ]
    for key in HEADLINE:
        spec = BY_KEY[key]
        unit = f"{fixed_rate} req/s, ms" if key == "fixed_p95_ms" else spec.unit
        label = f"{spec.label} ({unit})"
        before, after = (
            median(summary.get("before", {}), key),
            median(summary.get("after", {}), key),
        )
        published = PUBLISHED.get(key)
        reference = ("-", "-", "-")
        if published:
            reference = (fmt(published[0]), fmt(published[1]), ratio(key, *published[:2]))
        lines.append(
            f"| {label} | {_cell(summary, 'before', key)} | {_cell(summary, 'after', key)} "
            f"| {ratio(key, before, after)} | {' | '.join(reference)} |"
        )
    return lines


def detail_table(summary: Json) -> list[str]:
    """Return every figure for every layout measured, with the before/after ratio."""
    layouts = [name for name in ("before", "after", "after-aa") if name in summary]
    lines = [
        "| Figure | Unit | " + " | ".join(layouts) + " | after vs before |",
        "|---|---|" + "---|" * len(layouts) + "---|",
    ]
    for spec in FIGURES:
        cells = " | ".join(_cell(summary, layout, spec.key) for layout in layouts)
        before = median(summary.get("before", {}), spec.key)
        after = median(summary.get("after", {}), spec.key)
        lines.append(f"| {spec.label} | {spec.unit} | {cells} | {ratio(spec.key, before, after)} |")
    return lines


def environment_lines(document: Json) -> list[str]:
    """Return the fingerprint as a bullet list."""
    env = document["environment"]
    packages = ", ".join(f"{k} {v}" for k, v in sorted(env["packages"].items()) if v)
    git = env.get("git") or {}
    latency = document["third_party_latency_ms"]
    return [
        f"- CPU: {env['cpu_model']}, {env['logical_cores']} logical cores "
        f"({env.get('usable_cores')} usable), memory {env['memory_bytes'] / 2**30:.1f} GiB",
        f"- OS: {env['os']}; Python {env['python']}; k6: {env.get('k6') or '-'}",
        f"- git: {git.get('sha') or '-'}{' (uncommitted changes)' if git.get('dirty') else ''}",
        f"- profile: {document['profile']['name']}, scale: {document['scale']}, "
        f"third parties: SMTP {latency['smtp']} ms, webhook {latency['webhook']} ms",
        f"- fixed load: {document['fixed_rate']} req/s ({document['fixed_rate_source']}); "
        f"criteria: p95 <= {document['criteria']['p95_ms']:g} ms, errors < "
        f"{document['criteria']['max_error_rate'] * 100:g}%",
        f"- request types: {only_text(document.get('only'))}",
        f"- measured: {document['created_at']} to {document['finished_at']}; "
        f"results: {', '.join(document.get('sources') or [document['run_id']])}",
        f"- packages: {packages}",
    ]


def only_text(only: Any) -> str:
    """Describe `only`: the whole mix, or the types sent instead (uniformly, as k6 draws them)."""
    if not only:
        return "the whole mix (k6/lib/mix.json)"
    if isinstance(only, str):  # merged files that sent different types
        return only
    return f"only {', '.join(only)} (`--only`, drawn uniformly)"


def search_lines(layouts: Json) -> list[str]:
    """Return each search step (rate, p95, errors, dropped, verdict) per layout run."""
    lines = ["| Layout | Run | Rate | Served | p95 ms | Errors | Dropped | k6 CPU | Verdict |"]
    lines.append("|---|---|---|---|---|---|---|---|---|")
    for layout, runs in layouts.items():
        for run in runs:
            for step in run["search"]["steps"]:
                m = step["metrics"]
                verdict = "pass" if step["verdict"]["passed"] else "fail"
                lines.append(
                    f"| {layout} | {run['repeat'] + 1} | {step['target_rate']} | {fmt(m['rps'])} "
                    f"| {fmt(m['latency_ms']['p95'])} | {m['error_rate'] * 100:.2f}% "
                    f"| {m['dropped_iterations']} | {fmt(step['loadgen']['cpu_percent_mean'])}% "
                    f"| {verdict} |"
                )
    return lines


def evidence_lines(layouts: Json) -> list[str]:
    """Return per request type: statements and hops from headers and from PostgreSQL."""
    lines = [
        "| Layout | Request | Status | DB statements (header) | DB statements (PostgreSQL) "
        "| DB queries (PostgreSQL) | Hops | Hop depth | Latency ms (alone) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for layout, runs in layouts.items():
        if not runs:
            continue
        for name, entry in runs[0]["evidence"]["probe"]["types"].items():
            lines.append(
                f"| {layout} | {name} | {', '.join(map(str, entry['statuses']))} "
                f"| {fmt(entry.get('db_statements'))} "
                f"| {fmt(entry.get('pg_statements_per_request'))} "
                f"| {fmt(entry.get('pg_queries_per_request'))} | {fmt(entry.get('hops'))} "
                f"| {fmt(entry.get('hop_depth'))} | {fmt(entry['latency_ms_median'])} |"
            )
    return lines


def endpoint_lines(layouts: Json) -> list[str]:
    """Return per-endpoint latency at the fixed load (first run of each layout)."""
    lines = ["| Layout | Endpoint | Requests | p50 ms | p95 ms | p99 ms | Errors |"]
    lines.append("|---|---|---|---|---|---|---|")
    for layout, runs in layouts.items():
        if not runs:
            continue
        for name, entry in sorted(runs[0]["phases"]["fixed"]["endpoints"].items()):
            if not entry["requests"]:
                continue
            latency = entry["latency_ms"]
            lines.append(
                f"| {layout} | {name} | {entry['requests']} | {fmt(latency['p50'])} "
                f"| {fmt(latency['p95'])} | {fmt(latency['p99'])} "
                f"| {entry['error_rate'] * 100:.2f}% |"
            )
    return lines


def warning_lines(document: Json) -> list[str]:
    """Return warnings and failures the runs recorded (k6 saturation, failed layouts)."""
    lines = [
        f"- {layout} run {run['repeat'] + 1}: {warning}"
        for layout, runs in document["layouts"].items()
        for run in runs
        for warning in run["warnings"]
    ]
    lines += [f"- {error['layout']} failed: {error['error']}" for error in document["errors"]]
    return lines or ["- none"]


def dashboards(document: Json, results_dir: Path | None, out: Path) -> list[str]:
    """Return links to k6's HTML dashboard exports that exist next to the result files."""
    if results_dir is None:
        return []
    links = []
    for layout, runs in document["layouts"].items():
        for run in runs:
            folder = results_dir / run.get("artifacts_dir", "")
            for phase in ("fixed", "saturation"):
                name = (run["phases"].get(phase) or {}).get("artifacts", {}).get("dashboard")
                if name and (folder / name).exists():
                    relative = os.path.relpath(folder / name, out)
                    links.append(f"- [{layout} run {run['repeat'] + 1}, {phase}]({relative})")
    return links


def build(paths: list[Path], out: Path) -> Path:
    """Write report.md and its plots into `out` from the result files; return report.md."""
    out.mkdir(parents=True, exist_ok=True)
    document = merge([load(path) for path in paths])
    layouts, summary = document["layouts"], document["summary"]
    drawn = [
        plots.before_after_bars(summary, out / "before_after.png"),
        plots.latency_over_time(layouts, "fixed", out / "latency_over_time_fixed.png"),
        plots.latency_over_time(layouts, "saturation", out / "latency_over_time_saturation.png"),
        plots.latency_distribution(layouts, "fixed", out / "latency_distribution_fixed.png"),
        plots.search_steps(layouts, document["criteria"]["p95_ms"], out / "search_steps.png"),
    ]
    lines = ["# Benchmark report: before (14 services) vs after (4 services)", ""]
    lines += ["## Headline", "", *headline_table(summary, document["fixed_rate"]), ""]
    lines += [
        f"Published columns: {SOURCE}. They are the reference, measured on other hardware "
        "(and their p95 at their own load, ours at the fixed load both layouts ran): compare "
        "the ratios. Ours are medians over repeats, (min-max) when there were several. DB "
        "queries are counted by PostgreSQL (pg_stat_statements) for a warm dashboard request, "
        "transaction control left out; hops come from the X-Evidence-Hops header.",
        "",
        "## Environment",
        "",
        *environment_lines(document),
        "",
        "## All figures",
        "",
        *detail_table(summary),
        "",
    ]
    if document.get("noise_floor"):
        floor = document["noise_floor"]
        lines += ["## Noise floor (A/A: the after layout measured twice)", ""]
        lines += [
            f"- {BY_KEY[key].label}: {value * 100:.1f}%"
            for key, value in floor.items()
            if value is not None and BY_KEY[key].gate
        ]
        lines.append("")
    lines += ["## Framework ceiling", "", *ceiling_lines(document), ""]
    lines += ["## CPU cost per request (cost model)", "", *cost_lines(layouts), ""]
    profiles = profile_lines(layouts, paths[0].parent, out)
    if profiles:
        lines += ["## CPU profiles (py-spy, speedscope format)", "", *profiles, ""]
    lines += ["## Plots", ""]
    lines += [f"![{path.stem}]({path.name})" for path in drawn if path is not None]
    lines += ["", "## Step search", "", *search_lines(layouts), ""]
    lines += ["## Evidence per request type (one at a time, warm)", "", *evidence_lines(layouts)]
    lines += ["", "## Latency per endpoint at the fixed load", "", *endpoint_lines(layouts), ""]
    links = dashboards(document, paths[0].parent, out)
    if links:
        lines += ["## k6 dashboards", "", *links, ""]
    lines += ["## Warnings", "", *warning_lines(document), ""]
    report = out / "report.md"
    report.write_text("\n".join(lines))
    return report
