"""What a ladder result says: figures per rung, each fix's contribution, the attribution.

Everything is computed from the result document (its runs' summaries), never from a run in
progress, so the report can be rebuilt from the file alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench_harness.figures import median, summarise
from bench_harness.rungs import ARCHITECTURE_FIXES, FIX_TITLES, RUNTIME_FIXES

Json = dict[str, Any]
# Figure keys (figures.py) shown for every rung.
COLUMNS = (
    "sustainable_rps",
    "fixed_p95_ms",
    "db_queries_per_dashboard",
    "db_statements_per_dashboard",
    "hops_dashboard",
    "hop_depth_dashboard",
    "db_statements_per_request",
)


@dataclass(frozen=True)
class RungRow:
    key: str
    layout: str
    title: str
    fixes: tuple[int, ...]
    values: dict[str, float | None]  # COLUMNS -> median over repeats (None: not measured)
    # The lowest search step that failed: the sustainable rate lies in [sustainable, this).
    failing_rps: float | None = None

    @property
    def measured(self) -> bool:
        return self.values.get("sustainable_rps") is not None


@dataclass(frozen=True)
class Step:
    """The move from one measured rung to the next: the fixes it adds and what they changed."""

    fixes: tuple[int, ...]
    to_key: str
    rps_delta: float
    rps_share: float | None  # of before -> after's RPS gain
    p95_delta: float | None  # reduction in ms at the fixed load (positive: faster)
    p95_share: float | None  # of before -> after's p95 reduction


def rows(document: Json, section: str) -> list[RungRow]:
    """Return one row per rung of `section` (rungs | leave_one_out) of a ladder result."""
    found = []
    for rung in document["ladder"][section]:
        layout_summary = summarise(document["layouts"].get(rung["layout"]) or [])
        values = {key: median(layout_summary, key) for key in COLUMNS}
        fixes = tuple(rung["fixes"])
        failing = median(layout_summary, "lowest_failing_rps")
        found.append(RungRow(rung["key"], rung["layout"], rung["title"], fixes, values, failing))
    return found


def bracket(row: RungRow) -> str:
    """Return the sustainable rate with its search bound, e.g. '160 (fails at 190)'."""
    rps = row.values["sustainable_rps"]
    if rps is None:
        return "-"
    text = f"{rps:,.0f}"
    return text if row.failing_rps is None else f"{text} (fails at {row.failing_rps:,.0f})"


def steps(ladder: list[RungRow]) -> list[Step]:
    """Return each measured step; an unmeasured rung's fixes fold into the next measured one."""
    measured = [row for row in ladder if row.measured]
    if len(measured) < 2:
        return []
    first, last = measured[0], measured[-1]
    rps_total = _sub(last.values["sustainable_rps"], first.values["sustainable_rps"])
    p95_total = _sub(first.values["fixed_p95_ms"], last.values["fixed_p95_ms"])
    found: list[Step] = []
    pending: tuple[int, ...] = ()
    previous = first
    for row in ladder[ladder.index(first) + 1 :]:
        pending += row.fixes
        if not row.measured:
            continue
        rps_delta = _sub(row.values["sustainable_rps"], previous.values["sustainable_rps"])
        p95_delta = _sub(previous.values["fixed_p95_ms"], row.values["fixed_p95_ms"])
        found.append(
            Step(
                fixes=pending,
                to_key=row.key,
                rps_delta=rps_delta or 0.0,
                rps_share=_ratio(rps_delta, rps_total),
                p95_delta=p95_delta,
                p95_share=_ratio(p95_delta, p95_total),
            )
        )
        pending, previous = (), row
    return found


def attribution(found: list[Step]) -> dict[str, dict[str, float | None]]:
    """Return the share of the RPS and p95 gains of architecture (fixes 1-5) and runtime (6).

    A step that mixes both groups (a rung was skipped) is left out of both, and the shares then
    do not add up to one.
    """
    groups = {"architecture": ARCHITECTURE_FIXES, "runtime": RUNTIME_FIXES}
    result: dict[str, dict[str, float | None]] = {}
    for name, fixes in groups.items():
        mine = [step for step in found if step.fixes and set(step.fixes) <= set(fixes)]
        result[name] = {
            "rps": _total(step.rps_share for step in mine) if mine else None,
            "p95": _total(step.p95_share for step in mine) if mine else None,
        }
    return result


def leave_one_out(after: RungRow | None, variants: list[RungRow]) -> list[Json]:
    """Return, per variant, what the after layout loses without that fix."""
    found = []
    for row in variants:
        base_rps = after.values["sustainable_rps"] if after else None
        base_p95 = after.values["fixed_p95_ms"] if after else None
        loss = _sub(base_rps, row.values["sustainable_rps"])
        found.append(
            {
                "key": row.key,
                "fixes": row.fixes,
                "title": row.title,
                "rps": row.values["sustainable_rps"],
                "rps_bracket": bracket(row),
                "rps_loss": loss,
                "rps_loss_share": _ratio(loss, base_rps),
                "p95": row.values["fixed_p95_ms"],
                "p95_increase": _sub(row.values["fixed_p95_ms"], base_p95),
            }
        )
    return found


def fixes_label(fixes: tuple[int, ...]) -> str:
    """Return e.g. 'fixes 1+2 (merge services, really async)'."""
    if not fixes:
        return "-"
    numbers = "+".join(str(fix) for fix in fixes)
    titles = ", ".join(FIX_TITLES[fix] for fix in fixes)
    return f"fix{'es' if len(fixes) > 1 else ''} {numbers} ({titles})"


def _sub(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def _ratio(part: float | None, total: float | None) -> float | None:
    return None if part is None or not total else part / total


def _total(values: Any) -> float | None:
    known = [value for value in values if value is not None]
    return sum(known) if known else None
