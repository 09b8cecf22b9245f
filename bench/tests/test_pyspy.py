"""py-spy profiles: the command, which programs are profiled, and a real recording that either
writes a speedscope file or says why not (it never fails the run)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from bench_harness import pyspy
from bench_harness.pyspy import Recorder, py_spy_binary, record_command, service_pids

pytestmark = pytest.mark.timeout(120)


def test_the_command_records_a_process_tree_without_pausing_it(tmp_path: Path) -> None:
    out = tmp_path / "core_api.speedscope.json"
    command = record_command("py-spy", 123, out, 30)
    assert command == [
        "py-spy", "record", "--format", "speedscope", "-o", str(out), "--pid", "123",
        "--subprocesses", "--duration", "30", "--rate", "100", "--nonblocking",
    ]  # fmt: skip


def test_every_service_program_is_profiled_and_no_stand_in() -> None:
    processes = {"core_api": 10, "jobs_worker": 11, "smtp_sink": 12, "webhook_receiver": 13}
    stack = SimpleNamespace(supervisor=SimpleNamespace(processes=processes))
    assert service_pids(stack) == {"core_api": 10, "jobs_worker": 11}


def test_without_py_spy_the_run_goes_on_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pyspy, "py_spy_binary", lambda: None)
    with Recorder({"core_api": 1}, tmp_path, 1) as recorder:
        pass
    assert recorder.files() == {}
    assert recorder.warnings == ["profiles: py-spy is not installed; no profile recorded"]


def test_a_real_recording_writes_speedscope_or_says_why_not(tmp_path: Path) -> None:
    if py_spy_binary() is None:
        pytest.skip("py-spy is not installed")
    busy = "import time\nwhile True:\n    sum(range(10_000))\n    time.sleep(0.001)\n"
    child = subprocess.Popen([sys.executable, "-c", busy])
    try:
        with Recorder({"busy": child.pid}, tmp_path, 1) as recorder:
            pass  # py-spy samples for its --duration; __exit__ waits for it
    finally:
        child.kill()
        child.wait()

    files = recorder.files()
    assert files or recorder.warnings  # a profile, or the reason there is none (no ptrace)
    if files:
        assert files == {"busy": "profiles/busy.speedscope.json"}
        profile = json.loads((tmp_path / "busy.speedscope.json").read_text())
        assert "speedscope" in profile["$schema"]
    else:
        assert recorder.warnings[0].startswith("profiles: py-spy on busy exited")
