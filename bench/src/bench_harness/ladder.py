"""`bench_harness ladder`: measure each rung of the fix-by-fix ladder into one result file.

Every rung is a layout the launcher knows (see rungs.py), measured by the same per-layout method
as `run` (runner.measure_layout: fresh stack, warm-up, probe, step search, fixed load,
saturation). The before layout goes first and its sustainable rate is the fixed load of every
rung, so the p95 column compares like with like. A layout that is both a rung and a
leave-one-out variant (after-no-runtime is the cache rung) is measured once per repeat. Repeats
go round the whole ladder, so slow drift of the machine spreads over every rung alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench_harness import ui
from bench_harness.results import finalise, now, save
from bench_harness.rungs import LADDER, LEAVE_ONE_OUT, LEFT_OUT, PUBLISHED_SHARES, Rung
from bench_harness.runner import RunConfig, measure_into, new_document

Json = dict[str, Any]


def select(keys: Sequence[str] | None, *, leave_one_out: bool) -> tuple[list[Rung], list[Rung]]:
    """Return the (ladder, leave-one-out) rungs to measure; `keys` picks rungs by key."""
    ladder = list(LADDER)
    others = list(LEAVE_ONE_OUT) if leave_one_out else []
    if keys:
        known = {rung.key for rung in (*LADDER, *LEAVE_ONE_OUT)}
        unknown = sorted(set(keys) - known)
        if unknown:
            raise ValueError(f"unknown rungs {unknown}; known: {', '.join(sorted(known))}")
        ladder = [rung for rung in ladder if rung.key in keys]
        others = [rung for rung in LEAVE_ONE_OUT if rung.key in keys]
    return ladder, others


def plan(config: RunConfig, ladder: list[Rung], others: list[Rung]) -> list[tuple[int, str]]:
    """Return the (repeat, layout) runs in order, each layout once per repeat."""
    layouts = list(dict.fromkeys(rung.layout for rung in (*ladder, *others)))
    runs = [(repeat, layout) for repeat in range(config.profile.repeats) for layout in layouts]
    if config.profile.aa_run and "after" in layouts:
        runs.append((config.profile.repeats - 1, "after-aa"))
    return runs


def describe(ladder: list[Rung], others: list[Rung]) -> Json:
    """Return the `ladder` section of the result document: what was measured and left out."""

    def entry(rung: Rung) -> Json:
        return {"key": rung.key, "layout": rung.layout, "fixes": rung.fixes, "title": rung.title}

    return {
        "rungs": [entry(rung) for rung in ladder],
        "leave_one_out": [entry(rung) for rung in others],
        "left_out": [
            {"fix": item.fix, "title": item.title, "reason": item.reason} for item in LEFT_OUT
        ],
        "published_shares": {key: list(bounds) for key, bounds in PUBLISHED_SHARES.items()},
    }


def run_ladder(config: RunConfig, ladder: list[Rung], others: list[Rung]) -> tuple[Path, Json]:
    """Measure the rungs; return the result file's path and its document."""
    config = replace(config, layout="ladder")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    run_id = f"{stamp}-ladder-{config.profile.name}"
    path = config.out_dir / f"{run_id}.json"
    artifacts = config.out_dir / run_id
    document = new_document(config, run_id)
    document["ladder"] = describe(ladder, others)
    runs = plan(config, ladder, others)
    ui.console.print(
        f"[bold]ladder[/] {run_id}: {len(runs)} layout runs, profile {config.profile.name}, "
        f"scale {config.scale}, results in {path}"
    )
    for index, (repeat, key) in enumerate(runs, start=1):
        layout = "after" if key == "after-aa" else key
        if document["fixed_rate"] is None and layout != "before":
            document["fixed_rate"] = config.profile.fixed_rate_default
            document["fixed_rate_source"] = "profile-default"
        ui.console.rule(f"{key} ({index}/{len(runs)}, repeat {repeat + 1})")
        measure_into(
            document,
            config,
            key=key,
            repeat=repeat,
            artifacts=artifacts,
            fixed_rate=document["fixed_rate"],
        )
        save(finalise(document), path)
    document["fixed_rate"] = document["fixed_rate"] or config.profile.fixed_rate_default
    document["fixed_rate_source"] = document["fixed_rate_source"] or "profile-default"
    document["finished_at"] = now()
    save(finalise(document), path)
    latest = path.parent / "latest-ladder.json"
    latest.unlink(missing_ok=True)
    latest.symlink_to(path.name)
    return path, document
