"""The runner's whole pipeline (warm-up, probe, search, fixed load, saturation, result file,
report, compare) with real k6 against the stand-in API; only the stack and the database and Redis
witnesses are stand-ins."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from bench_harness import runner, session
from bench_harness.cli import main
from bench_harness.profiles import PROFILES
from bench_harness.results import load

pytestmark = pytest.mark.timeout(180)


class FakePostgres:
    def __init__(self, dsn: str) -> None:
        self.resets = 0

    def version(self) -> str:
        return "18.0"

    def reset_statements(self) -> None:
        self.resets += 1

    def statements(self) -> list[dict[str, Any]]:
        return [
            {"query": "SELECT id FROM users.profiles", "calls": 30, "rows": 30, "total_exec_ms": 1},
            {"query": "BEGIN", "calls": 10, "rows": 0, "total_exec_ms": 0.1},
        ]

    def connections(self) -> dict[str, int]:
        return {"idle": 3, "active": 1}

    def busy(self) -> int:
        return 0

    def close(self) -> None:
        return


class FakeRedis:
    def __init__(self, url: str) -> None:
        self.reads = 0

    def snapshot(self) -> dict[str, Any]:
        self.reads += 1
        return {
            "keyspace_hits": 9 * self.reads,
            "keyspace_misses": self.reads,
            "commands": 0,
            "used_memory": 0,
            "version": "6.2",
        }

    def backlog(self) -> int:
        return 0

    def close(self) -> None:
        return


@pytest.fixture
def fake_stack(fake_api: Any, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    started: list[str] = []

    @contextmanager
    def start(layout: str, **_: Any) -> Iterator[Any]:
        started.append(layout)
        processes = {"core_api": os.getpid(), "postgres": os.getppid()}
        yield SimpleNamespace(
            base_url=fake_api.base_url,
            database_dsn="postgresql://fake",
            redis_url="redis://fake",
            supervisor=SimpleNamespace(processes=processes),
        )

    tiny = replace(
        PROFILES["smoke"],
        warmup_s=1,
        step_s=1,
        search_max_steps=2,
        fixed_s=2,
        saturation_ramp_s=0.5,
        saturation_s=1,
        probe_repeats=1,
        search_start_rate=10,
        cost_s=1,
        cost_idle_s=0.2,
    )
    monkeypatch.setitem(PROFILES, "smoke", tiny)
    monkeypatch.setattr(runner, "started", start)
    monkeypatch.setattr(runner, "user_count", lambda stack, scale: 30)
    monkeypatch.setattr(runner, "seed_password", lambda: "seed-password-for-bench")
    monkeypatch.setattr(session, "Postgres", FakePostgres)
    monkeypatch.setattr(session, "RedisStats", FakeRedis)
    return started


def test_run_both_writes_a_valid_result_and_report(fake_stack: list[str], tmp_path: Path) -> None:
    assert main(["run", "--layout", "both", "--profile", "smoke", "--out", str(tmp_path)]) == 0

    assert fake_stack == ["before", "after"]
    document = load(tmp_path / "latest.json")
    assert set(document["layouts"]) == {"before", "after"}
    assert document["fixed_rate_source"] == "before-sustainable"
    before, after = document["layouts"]["before"][0], document["layouts"]["after"][0]
    assert before["search"]["sustainable_rps"] == 20  # two passing steps: 10, then 20
    assert document["fixed_rate"] == 20
    assert after["phases"]["fixed"]["target_rate"] == 20
    assert after["search"]["steps"][0]["target_rate"] == 20  # after starts where before stopped
    evidence = after["evidence"]
    assert evidence["fixed_load"]["db"]["statements"] == 40
    assert evidence["fixed_load"]["db"]["queries"] == 30
    assert evidence["fixed_load"]["cache"]["hit_ratio"] == 0.9
    assert evidence["fixed_load"]["connections"]["max"] == 4
    assert evidence["memory"]["services"] == 1  # postgres is infrastructure, not a service
    assert evidence["probe"]["types"]["dashboard"]["hops"] == 1
    assert evidence["probe"]["types"]["login"]["statuses"] == [200]
    assert document["summary"]["after"]["db_queries_per_dashboard"]["median"] == 30
    assert document["environment"]["k6"].startswith("k6 v")
    report = tmp_path / document["run_id"] / "report" / "report.md"
    assert "| Sustainable RPS (req/s) | 20 | 40 | 2.0x |" in report.read_text()
    assert not list(tmp_path.rglob("tokens.json"))  # no secrets left behind

    cost = after["evidence"]["cost"]
    assert list(cost["types"]) == list(document["mix"])  # every type of mix.json, alone
    dashboard = cost["types"]["dashboard"]
    assert dashboard["requests"] > 0
    assert dashboard["cpu_s"]["services"] >= 0  # the fake stack's "service" is this process
    assert dashboard["k6_cpu_s"] > 0
    assert after["phases"]["fixed"]["endpoints"]["me"]["requests"] > 0  # the whole mix
    # the framework ceiling, measured after the layouts with the same search
    ceiling = document["ceiling"]
    for app in ("fastapi", "asgi"):
        assert ceiling[app]["search"]["steps"][0]["metrics"]["requests"] > 0
        assert ceiling[app]["saturation"]["metrics"]["requests"] > 0
        assert ceiling[app]["saturation"]["metrics"]["error_rate"] == 0
    assert "## Framework ceiling" in report.read_text()
    assert "## CPU cost per request (cost model)" in report.read_text()


def test_run_only_dashboard_sends_dashboards_alone(fake_stack: list[str], tmp_path: Path) -> None:
    command = ["run", "--layout", "after", "--profile", "smoke", "--out", str(tmp_path)]
    assert main([*command, "--only", "dashboard", "--no-report"]) == 0

    document = load(tmp_path / "latest.json")
    assert document["only"] == ["dashboard"]
    run = document["layouts"]["after"][0]
    served = {
        name for name, entry in run["phases"]["fixed"]["endpoints"].items() if entry["requests"]
    }
    assert served == {"dashboard"}
    assert list(run["evidence"]["cost"]["types"]) == ["dashboard"]
    assert run["evidence"]["cost"]["mix"] == {"dashboard": 1.0}


def test_only_refuses_an_unknown_request_type(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["run", "--only", "dashboard,teleport"])
    assert "unknown request types ['teleport']" in capsys.readouterr().err


def test_the_fixed_load_says_when_it_is_the_floor_not_a_sustained_rate() -> None:
    def record(sustainable: int, fixed: int) -> dict[str, Any]:
        return {
            "search": {"sustainable_rps": sustainable},
            "phases": {"fixed": {"target_rate": fixed}},
        }

    assert runner.fixed_rate_source(record(20, 20)) == "before-sustainable"
    assert runner.fixed_rate_source(record(0, 1)) == "search minimum; before sustains none"
