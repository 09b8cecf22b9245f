"""CPU profiles of the services with py-spy, during a fixed-rate run of the mix.

The `full` profile (or `--profiles`) runs the mix once more at the fixed load, with one
`py-spy record` per service program (its master process and, with --subprocesses, its workers),
in speedscope format under `<layout run>/profiles/<program>.speedscope.json`. The profiled run is
a phase of its own, so py-spy's CPU does not touch the measured fixed load. py-spy needs ptrace:
where it cannot attach, the run goes on and says so in its warnings.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench_harness import ui
from bench_harness.k6run import SLOW_REQUEST_GRACE_S, Phase
from bench_harness.system import is_service, pid_of, supervised

Json = dict[str, Any]
SAMPLE_RATE = 100  # samples per second
FOLDER = "profiles"


def py_spy_binary() -> str | None:
    """Return the py-spy executable: the one beside this Python (the wheel), or on PATH."""
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


def record_command(binary: str, pid: int, out: Path, seconds: int) -> list[str]:
    """Return the py-spy command that profiles a process tree for `seconds` without pausing it."""
    return [
        binary,
        "record",
        "--format",
        "speedscope",
        "-o",
        str(out),
        "--pid",
        str(pid),
        "--subprocesses",
        "--duration",
        str(seconds),
        "--rate",
        str(SAMPLE_RATE),
        "--nonblocking",
    ]


def service_pids(stack: Any) -> dict[str, int]:
    """Return the pid of every service program of a stack (the Celery worker included)."""
    pids = {}
    for name, handle in supervised(stack).items():
        pid = pid_of(handle)
        if pid is not None and is_service(name):
            pids[name] = pid
    return pids


class Recorder:
    """py-spy processes recording the services while the body of a `with` runs."""

    def __init__(self, pids: dict[str, int], folder: Path, seconds: int) -> None:
        self.pids, self.folder, self.seconds = pids, folder, seconds
        self.running: dict[str, tuple[subprocess.Popen[bytes], Path, Path]] = {}
        self.warnings: list[str] = []

    def __enter__(self) -> Recorder:
        binary = py_spy_binary()
        if binary is None:
            self.warnings.append("profiles: py-spy is not installed; no profile recorded")
            return self
        self.folder.mkdir(parents=True, exist_ok=True)
        for name, pid in self.pids.items():
            out = self.folder / f"{name}.speedscope.json"
            log = self.folder / f"{name}.py-spy.log"
            with log.open("wb") as stream:
                process = subprocess.Popen(
                    record_command(binary, pid, out, self.seconds),
                    stdout=stream,
                    stderr=subprocess.STDOUT,
                )
            self.running[name] = (process, out, log)
        return self

    def __exit__(self, *exc: object) -> None:
        for name, (process, _, log) in self.running.items():
            try:
                code = process.wait(timeout=self.seconds + 30)
            except subprocess.TimeoutExpired:
                process.kill()
                code = process.wait()
            if code != 0:
                tail = log.read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
                self.warnings.append(f"profiles: py-spy on {name} exited {code}: {tail[0][:200]}")

    def files(self) -> dict[str, str]:
        """Return program -> profile path (relative to the layout run's folder) of each file."""
        return {
            name: f"{FOLDER}/{out.name}"
            for name, (_, out, _) in self.running.items()
            if out.exists() and out.stat().st_size > 0
        }


def profiled_run(session: Any, rate: int) -> Json:
    """Run the mix at `rate` for the fixed load's duration while py-spy records each service."""
    profile = session.profile
    phase = Phase(
        name="profiled",
        mode="open",
        rate=rate,
        duration_s=profile.fixed_s,
        pre_vus=max(10, min(rate, 300)),
        max_vus=max(50, min(rate * 10, 3000)),
        graceful_stop_s=SLOW_REQUEST_GRACE_S,
    )
    session.ensure_tokens(phase.measured_s() + SLOW_REQUEST_GRACE_S + 60)
    session.wait_idle()
    seconds = max(1, int(profile.fixed_s))
    with Recorder(service_pids(session.stack), session.artifacts / FOLDER, seconds) as recorder:
        result = session.run(phase)
    session.warnings.extend(recorder.warnings)
    files = recorder.files()
    ui.console.print(f"  [bold]{session.layout}[/] profiles: {len(files)} py-spy files")
    return {
        "tool": "py-spy",
        "rate": rate,
        "duration_s": seconds,
        "sample_rate": SAMPLE_RATE,
        "files": files,
        "metrics": result["metrics"],
        "loadgen": result["loadgen"],
        "warnings": recorder.warnings,
    }
