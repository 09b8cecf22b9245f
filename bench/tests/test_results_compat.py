"""Result files of schema version 1 (no `only`, no `ceiling`, no cost or profiles in the runs)
still load, render and compare; version 2 files carry the new keys and their sections."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from bench_harness.cli import main
from bench_harness.compare import compare
from bench_harness.results import load, merge, save, validate


def _old(make_run: Any, make_result: Any, layout: str, rps: float) -> dict[str, Any]:
    run = make_run(layout, rps=rps, p95=20, queries=2, hops=1, rss_mb=300)
    document = make_result(f"old-{layout}", {layout: [run]})
    document["schema_version"] = 1
    for key in ("only", "ceiling"):
        del document[key]
    for runs in document["layouts"].values():
        for each in runs:
            each["evidence"].pop("cost", None)
            each["evidence"].pop("profiles", None)
    return document


def _cost(services_s: float, requests: int = 100) -> dict[str, Any]:
    entry = {
        "requests": requests,
        "window_s": 5.0,
        "drain_s": 1.0,
        "drained": True,
        "cpu_s": {"services": services_s, "postgres": 0.1, "redis": 0.0},
        "k6_cpu_s": 0.1,
    }
    return {
        "rate": 20,
        "duration_s": 4,
        "cores": 2,
        "only": None,
        "mix": {"dashboard": 0.5, "me": 0.5},
        "components": ["postgres", "redis", "services"],
        "idle": {"window_s": 2.0, "cpu_s": {"services": 0.0, "postgres": 0.0, "redis": 0.0}},
        "types": {
            "dashboard": entry,
            "me": {**entry, "cpu_s": {**entry["cpu_s"], "services": 0.2}},
        },
    }


def test_an_old_file_loads_with_the_new_keys_as_null(
    tmp_path: Path, make_run: Any, make_result: Any
) -> None:
    path = tmp_path / "old.json"
    save(_old(make_run, make_result, "after", 400), path)

    document = load(path)

    assert document["schema_version"] == 1
    assert (document["only"], document["ceiling"]) == (None, None)
    assert document["summary"]["after"]["cpu_ms_per_request"]["median"] is None


def test_a_new_file_must_have_the_new_keys(make_result: Any) -> None:
    document = make_result("new", {})
    assert validate(document) == []
    del document["ceiling"]
    assert validate(document) == ["missing key 'ceiling'"]
    document["schema_version"] = 3
    assert "schema_version 3 is not supported" in validate(document)


def test_an_old_file_renders_and_compares_against_a_new_one(
    tmp_path: Path, make_run: Any, make_result: Any, make_ceiling: Any
) -> None:
    old = tmp_path / "old.json"
    save(_old(make_run, make_result, "after", 400), old)
    run = make_run("after", rps=420, p95=18, queries=2, hops=1, rss_mb=300)
    run["evidence"]["cost"] = _cost(0.4)
    new = tmp_path / "new.json"
    save(make_result("new", {"after": [run]}, ceiling=make_ceiling(1600, 2000)), new)

    assert main(["report", str(old), "--out", str(tmp_path / "old-report")]) == 0
    markdown = (tmp_path / "old-report" / "report.md").read_text()
    assert "Not measured in this result (a file from before the ceiling was added)." in markdown
    assert "## CPU cost per request (cost model)\n\nNot measured in these results." in markdown
    assert "- request types: the whole mix (k6/lib/mix.json)" in markdown

    groups, regressed = compare(str(old), str(new), 0.1)
    assert not regressed
    assert [title for title, _ in groups] == ["old.json:after -> new.json:after"]
    rows = {row.figure.key: row for row in groups[0][1]}
    assert (rows["sustainable_rps"].a, rows["sustainable_rps"].b) == (400, 420)
    # (0.4 + 0.1) CPU-s / 100 = 5 ms for the dashboard, (0.2 + 0.1) / 100 = 3 ms for me
    assert rows["cpu_ms_per_request"].a is None
    assert rows["cpu_ms_per_request"].b == pytest.approx(4.0)
    assert rows["predicted_rps"].b == pytest.approx(500.0)


def test_a_report_over_an_old_and_a_new_file_keeps_the_ceiling_and_the_cost(
    tmp_path: Path, make_run: Any, make_result: Any, make_ceiling: Any
) -> None:
    old = tmp_path / "old.json"
    save(_old(make_run, make_result, "before", 40), old)
    run = make_run("after", rps=400, p95=18, queries=2, hops=1, rss_mb=300)
    run["evidence"]["cost"] = _cost(0.4)
    new = tmp_path / "new.json"
    save(make_result("new", {"after": [run]}, ceiling=make_ceiling(1600, 2000)), new)

    assert merge([load(old), load(new)])["ceiling"]["fastapi"]["search"]["sustainable_rps"] == 1600
    assert main(["report", str(old), str(new), "--out", str(tmp_path / "both")]) == 0

    markdown = (tmp_path / "both" / "report.md").read_text()
    assert "| after | 400 | 25.0% |" in markdown
    assert "| before | 40 | 2.5% |" in markdown
    assert "| dashboard (50% of the mix) | 5.00 |" in markdown
    assert "| **mix, weighted** | 4.00 |" in markdown
    assert "| **predicted sustainable RPS** (cores / net CPU) | 500 |" in markdown
    assert "| **measured sustainable RPS** (step search) | 400 |" in markdown
    assert (
        "| after | dashboard | 100 | 4.00 | - | 1.00 | 0.00 | 5.00 | 5.00 | 1.00 | 5.0 | yes |"
        in (markdown)
    )
    json.loads(new.read_text())  # the file itself stays plain JSON


REFERENCE = Path(__file__).resolve().parents[2] / "docs/results/2026-11-25-full-default-2core"


def test_the_published_reference_result_still_renders_and_compares(tmp_path: Path) -> None:
    result = REFERENCE / "result.json"
    if not result.exists():
        pytest.skip("no published reference result in docs/results")
    document = load(result)
    assert document["schema_version"] == 1 and document["ceiling"] is None

    assert main(["report", str(result), "--out", str(tmp_path)]) == 0
    markdown = (tmp_path / "report.md").read_text()
    assert "## Framework ceiling\n\nNot measured in this result" in markdown
    assert "## CPU cost per request (cost model)\n\nNot measured in these results." in markdown

    groups, _ = compare(f"{result}:before", f"{result}:after", 0.1)
    assert [title for title, _ in groups] == ["result.json:before -> result.json:after"]
