"""Fill the `<!-- ladder:... -->` slots of docs/migration.md from a ladder result.

A slot is the blockquote paragraph that holds a `<!-- ladder:fix-N -->` (or
`<!-- ladder:leave-one-out -->`) marker, or the text after a `<!-- ladder:table-fix-N -->` marker
up to the end of its table cell. Each slot is replaced in place and keeps its marker, so the
page can be filled again by a later run.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Any

from bench_harness.ladder_figures import RungRow, Step, leave_one_out, rows, steps
from bench_harness.ladder_report import after_row
from bench_harness.paths import REPO_DIR
from bench_harness.report import fmt

Json = dict[str, Any]
MIGRATION_DOC = REPO_DIR / "docs" / "migration.md"
WIDTH = 100


def _share(value: float | None) -> str:
    return "" if value is None else f", {value * 100:.0f}% of the total gain"


def versus_after(loss: float | None) -> str:
    """Return how a leave-one-out variant's sustainable rate compares with the after layout's."""
    if not loss:
        return "as many as after"
    return f"{abs(loss):,.0f} {'fewer' if loss > 0 else 'more'} than after"


def _step_text(step: Step, before: RungRow, after: RungRow, fixed_rate: object) -> str:
    rps = (before.values["sustainable_rps"], after.values["sustainable_rps"])
    p95 = (before.values["fixed_p95_ms"], after.values["fixed_p95_ms"])
    queries = (before.values["db_queries_per_dashboard"], after.values["db_queries_per_dashboard"])
    hops = (before.values["hops_dashboard"], after.values["hops_dashboard"])
    loaded = (before.values["db_statements_per_request"], after.values["db_statements_per_request"])
    return (
        f"{before.key} -> {after.key}: sustainable {fmt(rps[0])} -> {fmt(rps[1])} req/s "
        f"({step.rps_delta:+,.0f}{_share(step.rps_share)}); p95 at {fixed_rate} req/s "
        f"{fmt(p95[0])} -> {fmt(p95[1])} ms; per dashboard {fmt(queries[0])} -> "
        f"{fmt(queries[1])} DB queries, {fmt(hops[0])} -> {fmt(hops[1])} hops; DB statements "
        f"per request under the fixed load {fmt(loaded[0])} -> {fmt(loaded[1])}."
    )


def slot_texts(document: Json) -> tuple[dict[str, str], dict[int, str]]:
    """Return (paragraph slot -> text, fix number -> table cell text) for a ladder result."""
    ladder = rows(document, "rungs")
    measured = [row for row in ladder if row.measured]
    by_key = {row.key: row for row in measured}
    fixed_rate = document["fixed_rate"]
    runs = document.get("sources") or [document["run_id"]]
    named = f"run {runs[0]}" if len(runs) == 1 else f"medians of runs {', '.join(runs)}"
    source = (
        f"({named}, profile {document['profile']['name']}, scale "
        f"{document['scale']}, {document['environment'].get('usable_cores')} cores)"
    )
    left_out = {item["fix"]: item for item in document["ladder"]["left_out"]}
    paragraphs: dict[str, str] = {}
    cells: dict[int, str] = {}
    previous = {step.to_key: prior for prior, step in zip(measured, steps(ladder), strict=False)}
    for step in steps(ladder):
        text = _step_text(step, previous[step.to_key], by_key[step.to_key], fixed_rate)
        cell = f"{step.rps_delta:+,.0f} req/s{_share(step.rps_share)}"
        if len(step.fixes) > 1:
            together = " and ".join(str(fix) for fix in step.fixes)
            text = f"Fixes {together} measured together. {text}"
            cell += f" (fixes {together} together)"
        for fix in step.fixes:
            note = left_out.get(fix)
            extra = f" Not a switch of this step: {note['title']} (code)." if note else ""
            paragraphs[f"fix-{fix}"] = f"{text}{extra} {source}"
            cells[fix] = cell
    entries = leave_one_out(after_row(document), rows(document, "leave_one_out"))
    lines = [
        f"{entry['key']}: {fmt(entry['rps'])} req/s ({versus_after(entry['rps_loss'])}), "
        f"p95 {fmt(entry['p95'])} ms"
        for entry in entries
        if entry["rps"] is not None
    ]
    if lines:
        paragraphs["leave-one-out"] = "; ".join(lines) + f". {source}"
    return paragraphs, cells


def fill(text: str, paragraphs: dict[str, str], cells: dict[int, str]) -> str:
    """Return the page with every slot that has a measured text filled, markers kept."""
    for fix, cell in cells.items():
        marker = f"<!-- ladder:table-fix-{fix} -->"
        text = re.sub(re.escape(marker) + r"[^|\n]*", f"{marker} {cell} ", text)
    lines = text.split("\n")
    for slot, body in paragraphs.items():
        marker = f"<!-- ladder:{slot} -->"
        at = next((i for i, line in enumerate(lines) if marker in line), None)
        if at is None:
            continue
        start, end = at, at
        while start > 0 and lines[start - 1].startswith(">"):
            start -= 1
        while end + 1 < len(lines) and lines[end + 1].startswith(">"):
            end += 1
        old = " ".join(line.removeprefix(">").strip() for line in lines[start : end + 1])
        label = re.match(r"\*\*(.+?):\*\*", old)
        heading = f"**{label.group(1) if label else 'Measured'}:**"
        wrapped = textwrap.wrap(f"{heading} {body}", WIDTH - 2, break_on_hyphens=False)
        # The marker stays whole on one line, so a later run finds it again.
        if len(wrapped[-1]) + len(marker) + 1 <= WIDTH - 2:
            wrapped[-1] += f" {marker}"
        else:
            wrapped.append(marker)
        lines[start : end + 1] = [f"> {line}" for line in wrapped]
    return "\n".join(lines)


def write_docs(document: Json, path: Path = MIGRATION_DOC) -> Path:
    """Fill the ladder slots of docs/migration.md (or `path`) in place; return the path."""
    paragraphs, cells = slot_texts(document)
    path.write_text(fill(path.read_text(), paragraphs, cells))
    return path
