"""The k6 scenario for real: `k6 inspect`, and short runs against the stand-in API that go
through setup()'s logins, the token file, the summary export and the harness's parsing."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from bench_harness.k6run import Phase, Target, run_phase
from bench_harness.paths import SCENARIO, k6_binary, mix_weights

pytestmark = pytest.mark.timeout(120)


def inspect(**env: str) -> dict[str, Any]:
    flags = [f"--env={name}={value}" for name, value in env.items()]
    done = subprocess.run(
        [k6_binary(), "inspect", "--execution-requirements", *flags, str(SCENARIO)],
        env={"K6_NO_USAGE_REPORT": "true"},
        capture_output=True,
        text=True,
        check=True,
    )
    options: dict[str, Any] = json.loads(done.stdout)
    return options


def test_inspect_open_and_closed_models() -> None:
    open_model = inspect(MODE="open", RATE="40", DURATION="10s")["scenarios"]["mix"]
    assert open_model["executor"] == "constant-arrival-rate"
    assert (open_model["rate"], open_model["duration"]) == (40, "10s")
    closed = inspect(MODE="closed", VUS="7", RAMP="2s", DURATION="5s")["scenarios"]["mix"]
    assert closed["executor"] == "ramping-vus"
    assert closed["stages"][-1] == {"duration": "5s", "target": 7}


def test_the_mix_weights_live_in_one_file_and_sum_to_100() -> None:
    weights = mix_weights()
    assert sum(weights.values()) == 100
    assert max(weights, key=lambda name: weights[name]) == "dashboard"


def test_open_model_run_logs_in_in_setup_and_is_parsed(fake_api: Any, tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.json"
    target = Target(
        fake_api.base_url,
        pool_size=5,
        user_count=30,
        password="seed-password-for-bench",
        tokens_file=tokens,
    )
    phase = Phase(name="open", mode="open", rate=40, duration_s=3, raw_output=True)

    result = run_phase(phase, target, tmp_path)

    users = json.loads(tokens.read_text())
    assert sorted(user["id"] for user in users) == [1, 2, 3, 4, 5]  # user 2 after a 429
    assert users[0]["prefs"]["theme"] == "dark" and users[0]["expires_in"] == 900
    measured = result["metrics"]
    assert 100 <= measured["requests"] <= 125
    assert measured["error_rate"] == 0 and measured["dropped_iterations"] == 0
    assert measured["latency_ms"]["p95"] < 200
    assert result["thresholds_passed"] and result["exit_code"] == 0
    assert "dashboard" in result["endpoints"]
    assert result["endpoints"]["dashboard"]["requests"] > measured["requests"] / 4
    assert sum(bucket["count"] for bucket in result["timeseries"]) == measured["requests"]
    assert sum(result["histogram"]["counts"]) == measured["requests"]
    assert result["loadgen"]["cpu_percent_mean"] is not None
    assert "setup_data" not in result["k6_summary"]  # tokens stay out of result files
    assert fake_api.calls["GET /v1/me/dashboard"] > 0 and fake_api.calls["PUT /v1/me/prefs"] >= 0


def test_second_run_reuses_the_token_file(fake_api: Any, tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.json"
    tokens.write_text(json.dumps([{"id": 7, "token": "tok-7", "prefs": None}]))
    target = Target(fake_api.base_url, pool_size=5, user_count=30, password="x", tokens_file=tokens)
    phase = Phase(name="reuse", mode="open", rate=20, duration_s=2, only="me,dashboard")

    result = run_phase(phase, target, tmp_path)

    assert result["metrics"]["error_rate"] == 0
    assert set(result["endpoints"]) >= {"me", "dashboard"}
    assert result["endpoints"]["me"]["requests"] + result["endpoints"]["dashboard"]["requests"] > 0
    assert fake_api.calls["POST /v1/auth/login"] == 0


def test_closed_model_run_measures_steady_throughput(fake_api: Any, tmp_path: Path) -> None:
    target = Target(
        fake_api.base_url, pool_size=3, user_count=30, password="seed-password-for-bench"
    )
    phase = Phase(name="closed", mode="closed", vus=3, ramp_s=0.5, duration_s=2, raw_output=True)

    result = run_phase(phase, target, tmp_path)

    assert result["mode"] == "closed" and result["vus"] == 3
    assert result["metrics"]["rps"] > 50
    assert result["metrics"]["error_rate"] < 0.01  # logins are 200 or an accepted 429


def test_errors_fail_the_thresholds_without_failing_the_phase(
    fake_api: Any, tmp_path: Path
) -> None:
    tokens = tmp_path / "tokens.json"
    tokens.write_text(json.dumps([{"id": 1, "token": "expired", "prefs": None}]))
    target = Target(fake_api.base_url, pool_size=1, user_count=30, password="x", tokens_file=tokens)
    phase = Phase(name="unauthorized", mode="open", rate=10, duration_s=1, only="me")

    result = run_phase(phase, target, tmp_path)

    assert result["exit_code"] == 99 and not result["thresholds_passed"]
    assert result["metrics"]["error_rate"] == 1.0
    assert result["endpoints"]["me"]["error_rate"] == 1.0
