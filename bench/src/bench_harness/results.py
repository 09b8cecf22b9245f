"""Result files: one JSON document per run, raw enough that a report can be recomputed.

Top-level keys: schema, schema_version, run_id, created_at, finished_at, command, profile, scale,
third_party_latency_ms, criteria, mix, fixed_rate, fixed_rate_source, environment, layouts
(layout -> list of runs, one per repeat), summary (layout -> figure -> median/min/max/values),
noise_floor, errors; since schema version 2 also `only` (the request types sent instead of the
mix, or null) and `ceiling` (the framework ceiling, ceiling.py, or null). Version 1 files still
load: `load` gives them both keys as null.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from bench_harness.figures import summarise

Json = dict[str, Any]
SCHEMA = "bench-harness/result"
SCHEMA_VERSION = 2
SUPPORTED_VERSIONS = (1, 2)
TOP_LEVEL_KEYS = (
    "schema",
    "schema_version",
    "run_id",
    "created_at",
    "finished_at",
    "command",
    "profile",
    "scale",
    "third_party_latency_ms",
    "criteria",
    "mix",
    "fixed_rate",
    "fixed_rate_source",
    "environment",
    "layouts",
    "summary",
    "noise_floor",
    "errors",
)
# Keys a version added: required from that version on, null when an older file is loaded.
ADDED_KEYS = {2: ("only", "ceiling")}
RUN_KEYS: tuple[str, ...] = ("layout", "repeat", "started_at", "finished_at", "stack")
RUN_KEYS += ("phases", "search", "evidence", "warnings")
LAYOUT_KEYS = ("before", "after", "after-aa")
# The bench ladder (ladder.py) measures variants of the after layout too: after-rung-*, after-no-*.
LAYOUT_VARIANT = re.compile(r"after-[a-z0-9-]+")


def now() -> str:
    """Return the current UTC time as ISO 8601."""
    return datetime.now(UTC).isoformat()


def save(document: Json, path: Path) -> None:
    """Write a result document atomically (a crash mid-run leaves the previous save intact)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".json.partial")
    partial.write_bytes(
        orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY)
    )
    partial.replace(path)


def load(path: Path) -> Json:
    """Read a result document and refuse one that is not a result of this schema."""
    document: Json = orjson.loads(path.read_bytes())
    problems = validate(document)
    if problems:
        raise ValueError(f"{path} is not a valid result file: " + "; ".join(problems))
    return upgrade(document)


def upgrade(document: Json) -> Json:
    """Give an older document the keys later versions added (as null: not measured then)."""
    for keys in ADDED_KEYS.values():
        for key in keys:
            document.setdefault(key, None)
    return document


def validate(document: Json) -> list[str]:
    """Return what is wrong with a result document (empty when it is valid)."""
    version = document.get("schema_version")
    required = list(TOP_LEVEL_KEYS)
    for since, keys in ADDED_KEYS.items():
        if isinstance(version, int) and version >= since:
            required += keys
    problems = [f"missing key {key!r}" for key in required if key not in document]
    if document.get("schema") != SCHEMA:
        problems.append(f"schema is {document.get('schema')!r}, expected {SCHEMA!r}")
    if version not in SUPPORTED_VERSIONS:
        problems.append(f"schema_version {version!r} is not supported")
    layouts = document.get("layouts")
    if not isinstance(layouts, dict):
        return [*problems, "layouts is not an object"]
    for layout, runs in layouts.items():
        if layout not in LAYOUT_KEYS and not LAYOUT_VARIANT.fullmatch(layout):
            problems.append(f"unknown layout {layout!r}")
        if not isinstance(runs, list):
            problems.append(f"layouts.{layout} is not a list")
            continue
        for index, run in enumerate(runs):
            missing = [key for key in RUN_KEYS if key not in run]
            if missing:
                problems.append(f"layouts.{layout}[{index}] misses {', '.join(missing)}")
    return problems


def finalise(document: Json) -> Json:
    """Recompute the summary and the A/A noise floor from the runs."""
    layouts: dict[str, list[Json]] = document["layouts"]
    document["summary"] = {layout: summarise(runs) for layout, runs in layouts.items() if runs}
    document["noise_floor"] = noise_floor(layouts)
    return document


def noise_floor(layouts: dict[str, list[Json]]) -> Json | None:
    """Return each figure's relative A/A difference (the after layout measured twice)."""
    first, second = layouts.get("after") or [], layouts.get("after-aa") or []
    if not first or not second:
        return None
    a, b = summarise(first[-1:]), summarise(second)
    floor: Json = {}
    for key, entry in a.items():
        left, right = entry["median"], b[key]["median"]
        if left is None or right is None or left == 0:
            floor[key] = None
        else:
            floor[key] = abs(right - left) / abs(left)
    return floor


def merge(documents: list[Json]) -> Json:
    """Return one document holding every run of the given results (for reports over several)."""
    if not documents:
        raise ValueError("no result files")
    merged: Json = dict(documents[-1])
    merged["layouts"] = {}
    for document in documents:
        for layout, runs in document["layouts"].items():
            merged["layouts"].setdefault(layout, []).extend(runs)
    merged["sources"] = [document["run_id"] for document in documents]
    # The newest ceiling measured (each run measures its own; several files: the last one's).
    ceilings = [document["ceiling"] for document in documents if document.get("ceiling")]
    merged["ceiling"] = ceilings[-1] if ceilings else None
    # The value when every file agrees, else a sentence saying what each sent.
    onlies = sorted({",".join(document.get("only") or ["the whole mix"]) for document in documents})
    if len(onlies) > 1:
        merged["only"] = "differs between the files: " + "; ".join(onlies)
    merged["created_at"] = min(document["created_at"] for document in documents)
    ended = [document["finished_at"] for document in documents if document.get("finished_at")]
    merged["finished_at"] = max(ended) if ended else None
    fixed = {document["fixed_rate"] for document in documents}
    merged["fixed_rate"] = documents[0]["fixed_rate"] if len(fixed) == 1 else sorted(fixed)
    return finalise(merged)
