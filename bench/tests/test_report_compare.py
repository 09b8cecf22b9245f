"""Report and compare, built from synthetic result files only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from bench_harness.cli import main
from bench_harness.results import load, save, validate

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _write(path: Path, document: dict[str, Any]) -> Path:
    save(document, path)
    return path


@pytest.fixture
def both(tmp_path: Path, make_run: Any, make_result: Any) -> Path:
    runs = {
        "before": [
            make_run("before", rps=40, p95=180, queries=14, hops=4, rss_mb=900, repeat=r)
            for r in range(3)
        ],
        "after": [
            make_run("after", rps=500 + r, p95=12, queries=2, hops=1, rss_mb=400, repeat=r)
            for r in range(3)
        ],
        "after-aa": [make_run("after-aa", rps=490, p95=13, queries=2, hops=1, rss_mb=400)],
    }
    return _write(tmp_path / "both.json", make_result("run-both", runs))


def test_synthetic_result_is_valid_and_summarised(both: Path) -> None:
    document = load(both)
    assert validate(document) == []
    assert document["summary"]["after"]["sustainable_rps"]["median"] == 501
    assert document["summary"]["after"]["sustainable_rps"]["min"] == 500
    assert document["noise_floor"]["sustainable_rps"] == pytest.approx(12 / 502)


def test_validate_names_what_is_missing(both: Path) -> None:
    document = json.loads(both.read_text())
    del document["environment"]
    document["layouts"]["after"][0].pop("search")
    problems = validate(document)
    assert "missing key 'environment'" in problems
    assert any("misses search" in problem for problem in problems)


def test_report_has_the_published_table_and_png_plots(both: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    assert main(["report", str(both), "--out", str(out)]) == 0

    markdown = (out / "report.md").read_text()
    assert (
        "| Sustainable RPS (req/s) | 40 (40-40) | 501 (500-502) | 12.5x | 180 | 1,300 | 7.2x |"
        in markdown
    )
    assert (
        "| DB queries per dashboard request (queries) | 14 (14-14) | 2 (2-2) | 7.0x "
        "| 14 | 2 | 7.0x |" in markdown
    )
    assert "Noise floor" in markdown
    pngs = sorted(path.name for path in out.glob("*.png"))
    assert pngs == [
        "before_after.png",
        "latency_distribution_fixed.png",
        "latency_over_time_fixed.png",
        "latency_over_time_saturation.png",
        "search_steps.png",
    ]
    for name in pngs:
        assert (out / name).read_bytes().startswith(PNG_MAGIC)
        assert f"]({name})" in markdown


def test_report_merges_separate_before_and_after_files(
    tmp_path: Path, make_run: Any, make_result: Any
) -> None:
    before = make_result(
        "b", {"before": [make_run("before", rps=40, p95=150, queries=14, hops=4, rss_mb=900)]}
    )
    after = make_result(
        "a", {"after": [make_run("after", rps=400, p95=10, queries=2, hops=1, rss_mb=300)]}
    )
    paths = [_write(tmp_path / "b.json", before), _write(tmp_path / "a.json", after)]
    out = tmp_path / "merged"
    assert main(["report", *map(str, paths), "--out", str(out)]) == 0
    assert "| Sustainable RPS (req/s) | 40 | 400 | 10.0x |" in (out / "report.md").read_text()


@pytest.fixture
def baseline(tmp_path: Path, make_run: Any, make_result: Any) -> Path:
    run = make_run("after", rps=500, p95=20, queries=2, hops=1, rss_mb=400)
    return _write(tmp_path / "a.json", make_result("a", {"after": [run]}))


def _candidate(tmp_path: Path, make_run: Any, make_result: Any, **figures: float) -> Path:
    values = {"rps": 500, "p95": 20, "queries": 2, "hops": 1, "rss_mb": 400} | figures
    run = make_run("after", **values)
    return _write(tmp_path / "b.json", make_result("b", {"after": [run]}))


def test_compare_passes_within_threshold(
    baseline: Path, tmp_path: Path, make_run: Any, make_result: Any
) -> None:
    candidate = _candidate(tmp_path, make_run, make_result, rps=470, p95=21)
    assert main(["compare", str(baseline), str(candidate), "--threshold", "0.1"]) == 0


@pytest.mark.parametrize(
    "figures",
    [{"rps": 400}, {"p95": 40}, {"queries": 6}, {"rss_mb": 600}],
    ids=["throughput", "latency", "db-queries", "memory"],
)
def test_compare_fails_on_a_regression(
    baseline: Path, tmp_path: Path, make_run: Any, make_result: Any, figures: dict[str, float]
) -> None:
    candidate = _candidate(tmp_path, make_run, make_result, **figures)
    assert main(["compare", str(baseline), str(candidate), "--threshold", "0.1"]) == 1


def test_compare_picks_layouts_inside_one_file(both: Path) -> None:
    # after is better than before on every gated figure: no regression from before to after
    assert main(["compare", f"{both}:before", f"{both}:after"]) == 0
    assert main(["compare", f"{both}:after", f"{both}:before"]) == 1


def test_compare_refuses_an_invalid_file(tmp_path: Path, baseline: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"schema": "something else"}))
    with pytest.raises(ValueError, match="not a valid result file"):
        main(["compare", str(baseline), str(broken)])
