"""The CI smoke run: both real layouts on the tiny scale, a result file and a report.

No timing is asserted: the smoke profile proves the pipeline, it does not measure.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from bench_harness.results import load
from bench_harness.stack import available_layouts


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_smoke_profile_end_to_end(tmp_path: Path) -> None:
    missing = {"before", "after"} - available_layouts()
    if missing:
        pytest.skip(f"stack_launcher.stack.LAYOUTS has no {sorted(missing)} layout yet")

    command = [sys.executable, "-m", "bench_harness", "run", "--layout", "both"]
    command += ["--profile", "smoke", "--out", str(tmp_path)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=880)

    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    document = load(tmp_path / "latest.json")
    assert set(document["layouts"]) == {"before", "after"}
    assert document["errors"] == []
    for layout in ("before", "after"):
        run = document["layouts"][layout][0]
        assert run["phases"]["fixed"]["metrics"]["requests"] > 0
        assert run["evidence"]["probe"]["types"]["dashboard"]["statuses"] == [200]
    report = tmp_path / document["run_id"] / "report"
    assert (report / "report.md").read_text().startswith("# Benchmark report")
    assert list(report.glob("*.png"))
