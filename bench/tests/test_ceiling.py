"""The framework ceiling: both apps answer under the services' gunicorn settings, and the report
and compare show each layout as a fraction of the FastAPI ceiling."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import httpx
import psutil  # type: ignore[import-untyped]
import pytest
from bench_harness.ceiling import APPS, serving
from bench_harness.ceiling_apps import BODY
from bench_harness.ceiling_figures import ceiling_lines, fraction, layout_fractions
from bench_harness.cli import main
from bench_harness.compare import compare
from bench_harness.results import finalise, save

pytestmark = pytest.mark.timeout(120)


def _group_alive(pgid: int) -> list[int]:
    alive = []
    for process in psutil.process_iter(["status"]):
        try:
            if os.getpgid(process.pid) == pgid and process.info["status"] != "zombie":
                alive.append(process.pid)
        except (ProcessLookupError, psutil.Error):
            continue
    return alive


def _workers(pid: int, expected: int) -> list[Any]:
    # gunicorn forks its workers one after another; the first may answer before the last exists
    for _ in range(100):
        children = psutil.Process(pid).children()
        if len(children) >= expected:
            break
        time.sleep(0.1)
    return list(children)


@pytest.mark.parametrize("key", sorted(APPS))
def test_the_ceiling_app_answers_under_gunicorn_and_leaves_nothing(
    key: str, tmp_path: Path
) -> None:
    with serving(APPS[key], log=tmp_path / "gunicorn.log", workers=2) as server:
        response = httpx.get(f"{server.base_url}/", timeout=10)
        missing = httpx.get(f"{server.base_url}/nowhere", timeout=10)
        workers = _workers(server.pid, expected=2)

    assert response.status_code == 200
    assert response.content == BODY  # both apps send the very same bytes
    assert response.headers["content-type"] == "application/json"
    assert missing.status_code == 404
    assert len(workers) == 2  # WEB_CONCURRENCY reached gunicorn_conf
    assert _group_alive(server.pid) == []


def test_fractions_of_the_fastapi_ceiling(make_ceiling: Any) -> None:
    summary = {
        "before": {"sustainable_rps": {"median": 40.0}, "saturation_rps": {"median": 50.0}},
        "after": {"sustainable_rps": {"median": 400.0}, "saturation_rps": {"median": None}},
    }
    rows = {row["layout"]: row for row in layout_fractions(summary, make_ceiling(1600, 2000))}

    assert rows["before"]["sustainable_fraction"] == pytest.approx(0.025)
    assert rows["before"]["peak_fraction"] == pytest.approx(0.025)
    assert rows["after"]["sustainable_fraction"] == pytest.approx(0.25)
    assert rows["after"]["peak_fraction"] is None  # no peak measured, no fraction
    assert layout_fractions(summary, None)[0]["sustainable_fraction"] is None
    assert fraction(5.0, 0.0) is None


def _run(make_run: Any, layout: str, rps: float) -> dict[str, Any]:
    return make_run(layout, rps=rps, p95=20, queries=2, hops=1, rss_mb=300)


def test_report_shows_the_ceiling_and_each_layout_as_a_share(
    tmp_path: Path, make_run: Any, make_result: Any, make_ceiling: Any
) -> None:
    runs = {"before": [_run(make_run, "before", 40)], "after": [_run(make_run, "after", 400)]}
    path = tmp_path / "r.json"
    save(make_result("r", runs, ceiling=make_ceiling(1600, 2000), only=["dashboard"]), path)

    assert main(["report", str(path), "--out", str(tmp_path / "report")]) == 0

    markdown = (tmp_path / "report" / "report.md").read_text()
    assert "## Framework ceiling" in markdown
    assert "| FastAPI, one plain route | 1,600 | 3,200 | 2,000 | 4.0 | 0.500 | 20% |" in markdown
    assert "| raw ASGI, same bytes | 3,200 |" in markdown
    assert "FastAPI's peak is 50.0% of the raw ASGI app's" in markdown
    # sustainable 400 of 1,600; the synthetic peak is 1.3 x sustainable = 520 of 2,000
    assert "| after | 400 | 25.0% | 520 | 26.0% |" in markdown
    assert "| before | 40 | 2.5% | 52 | 2.6% |" in markdown
    assert "- request types: only dashboard (`--only`, drawn uniformly)" in markdown


def test_compare_shows_the_ceiling_only_when_both_files_have_one(
    tmp_path: Path, make_run: Any, make_result: Any, make_ceiling: Any
) -> None:
    a, b, bare = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "bare.json"
    save(
        make_result(
            "a", {"after": [_run(make_run, "after", 400)]}, ceiling=make_ceiling(1600, 2000)
        ),
        a,
    )
    save(
        make_result(
            "b", {"after": [_run(make_run, "after", 400)]}, ceiling=make_ceiling(800, 1000)
        ),
        b,
    )
    save(make_result("bare", {"after": [_run(make_run, "after", 400)]}), bare)

    groups, regressed = compare(str(a), str(b), 0.1)

    assert not regressed  # a slower machine's ceiling is not a regression of the code
    title, rows = groups[-1]
    assert title == "framework ceiling: a.json -> b.json"
    by_label = {row.label: row for row in rows}
    sustainable = by_label["FastAPI ceiling: sustainable RPS"]
    assert (sustainable.a, sustainable.b, sustainable.change) == (1600, 800, -0.5)
    assert by_label["raw ASGI ceiling: peak RPS"].b == pytest.approx(2000)
    assert all("ceiling" not in title for title, _ in compare(str(a), str(bare), 0.1)[0])


def test_ceiling_lines_of_a_file_without_one(make_result: Any) -> None:
    document = finalise(make_result("old", {}))
    assert ceiling_lines(document) == [
        "Not measured in this result (a file from before the ceiling was added)."
    ]
