"""`bench_harness compare A B`: the gated figures of B against A; non-zero exit on a regression.

A and B are result files, optionally `path.json:layout`. Without a layout the layouts both files
hold are compared; when they share none (a before-only file against an after-only file), each
file's only layout is used. When both files measured the framework ceiling, its figures follow
(for reading, never gated).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.table import Table

from bench_harness.ceiling_figures import CEILING_FIGURES
from bench_harness.figures import FIGURES, Figure, median
from bench_harness.report import fmt
from bench_harness.results import finalise, load

Json = dict[str, Any]


@dataclass(frozen=True)
class Row:
    label: str
    figure: Figure
    a: float | None
    b: float | None
    change: float | None  # relative, positive = better
    regressed: bool


def parse_ref(text: str) -> tuple[Path, str | None]:
    """Split `path.json:layout` into the path and the layout (None when absent)."""
    head, sep, tail = text.rpartition(":")
    if sep and head.endswith(".json") and "/" not in tail:
        return Path(head), tail
    return Path(text), None


def pairs(a: Json, layout_a: str | None, b: Json, layout_b: str | None) -> list[tuple[str, str]]:
    """Return the (layout of A, layout of B) pairs to compare."""
    if layout_a or layout_b:
        return [(layout_a or _only(a), layout_b or _only(b))]
    common = [name for name in a["summary"] if name in b["summary"]]
    if common:
        return [(name, name) for name in common]
    return [(_only(a), _only(b))]


def _only(document: Json) -> str:
    layouts: list[str] = list(document["summary"])
    if len(layouts) != 1:
        raise ValueError(f"{document['run_id']} holds {layouts}; name one as path.json:layout")
    return layouts[0]


def judge(figure: Figure, a: float | None, b: float | None, threshold: float) -> Row:
    """Return the change from a to b and whether it is a regression beyond the threshold."""
    if a is None or b is None:
        return Row(figure.label, figure, a, b, None, False)
    delta = b - a if figure.higher_is_better else a - b
    change = delta / abs(a) if a else (0.0 if delta == 0 else None)
    worse = delta < 0 and abs(delta) > figure.min_abs_change
    regressed = worse and figure.gate and (change is None or -change > threshold)
    return Row(figure.label, figure, a, b, change, regressed)


def compare(ref_a: str, ref_b: str, threshold: float) -> tuple[list[tuple[str, list[Row]]], bool]:
    """Compare two result files; return the rows per layout pair and whether B regressed."""
    path_a, layout_a = parse_ref(ref_a)
    path_b, layout_b = parse_ref(ref_b)
    a, b = finalise(load(path_a)), finalise(load(path_b))
    groups = []
    regressed = False
    for left, right in pairs(a, layout_a, b, layout_b):
        rows = [
            judge(
                spec,
                median(a["summary"][left], spec.key),
                median(b["summary"][right], spec.key),
                threshold,
            )
            for spec in FIGURES
        ]
        regressed = regressed or any(row.regressed for row in rows)
        groups.append((f"{path_a.name}:{left} -> {path_b.name}:{right}", rows))
    # The machine's ceiling, when both files have one (and are two files): shown, never gated.
    if a.get("ceiling") and b.get("ceiling") and path_a.resolve() != path_b.resolve():
        rows = [
            judge(spec, spec.read(a["ceiling"]), spec.read(b["ceiling"]), threshold)
            for spec in CEILING_FIGURES
        ]
        groups.append((f"framework ceiling: {path_a.name} -> {path_b.name}", rows))
    return groups, regressed


def table(title: str, rows: list[Row]) -> Table:
    """Return a rich table of one comparison."""
    view = Table(title=title)
    for column in ("Figure", "A", "B", "Change", "Gate"):
        view.add_column(column, justify="left" if column == "Figure" else "right")
    for row in rows:
        change = "-" if row.change is None else f"{row.change * 100:+.1f}%"
        if row.regressed:
            verdict = "[red]REGRESSION[/]"
        else:
            verdict = "ok" if row.figure.gate else ""
        unit = row.figure.unit
        view.add_row(row.label, fmt(row.a, unit), fmt(row.b, unit), change, verdict)
    return view
