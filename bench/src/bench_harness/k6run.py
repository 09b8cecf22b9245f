"""Run one k6 phase of the mixed scenario and collect what it measured.

Each phase is one k6 process: the open model (constant-arrival-rate) for warm-up, search steps
and the fixed load, the closed model (ramping-vus) for saturation. The harness watches k6's own
CPU meanwhile: on two cores the load generator competes with the services, and a run where it
used most of a core is flagged rather than trusted.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from bench_harness import metrics
from bench_harness.paths import SCENARIO, k6_binary
from bench_harness.system import CpuMeter, Sampler, spread

Json = dict[str, Any]
LOADGEN_SATURATED_PERCENT = 90.0
THRESHOLDS_FAILED = 99  # k6's exit code when only thresholds failed: still a measurement
# In the measured phases a request still running at the end is waited for (up to this long) and
# counted, rather than cut off: cutting the slowest requests off would flatter the tail.
SLOW_REQUEST_GRACE_S = 30.0


class K6Error(RuntimeError):
    """k6 could not run the phase (a script error, a failed setup, a timeout)."""


@dataclass(frozen=True)
class Phase:
    """What one k6 run does."""

    name: str
    mode: Literal["open", "closed"]
    duration_s: float
    rate: int = 0
    vus: int = 0
    ramp_s: float = 0.0
    pre_vus: int | None = None
    max_vus: int | None = None
    graceful_stop_s: float = 5.0
    raw_output: bool = False
    dashboard: bool = False
    only: str | None = None
    script: Path = SCENARIO  # ceiling.js for the framework ceiling

    def measured_s(self) -> float:
        """Return the seconds of traffic the phase schedules (ramp included)."""
        return self.duration_s + (self.ramp_s if self.mode == "closed" else 0.0)

    def describe(self) -> str:
        """Return a short human description of the phase."""
        if self.mode == "closed":
            return f"{self.name}, {self.vus} VUs for {self.measured_s():g}s"
        return f"{self.name}, {self.rate} req/s for {self.duration_s:g}s"


@dataclass
class Target:
    """Where the traffic goes and who sends it (the same for every phase of one layout)."""

    base_url: str
    pool_size: int
    user_count: int
    password: str
    email_template: str = "user{id}@example.com"
    tokens_file: Path | None = None
    extra_env: dict[str, str] = field(default_factory=dict)


def _env(phase: Phase, target: Target, files: Mapping[str, Path]) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "K6_NO_USAGE_REPORT": "true",
            "BASE_URL": target.base_url,
            "POOL_SIZE": str(target.pool_size),
            "USER_COUNT": str(target.user_count),
            "PASSWORD": target.password,
            "EMAIL_TEMPLATE": target.email_template,
            "MODE": phase.mode,
            "DURATION": f"{phase.duration_s:g}s",
            "GRACEFUL_STOP": f"{phase.graceful_stop_s:g}s",
            "SUMMARY_FILE": str(files["summary"]),
        }
    )
    if phase.mode == "open":
        env["RATE"] = str(phase.rate)
        env["PRE_VUS"] = str(phase.pre_vus or max(5, min(phase.rate, 100)))
        env["MAX_VUS"] = str(phase.max_vus or max(20, phase.rate * 2))
    else:
        env["VUS"] = str(phase.vus)
        env["RAMP"] = f"{phase.ramp_s:g}s"
    if target.tokens_file is not None and target.tokens_file.exists():
        env["TOKENS_FILE"] = str(target.tokens_file.resolve())  # k6 resolves relative to the script
    elif target.tokens_file is not None:
        env["TOKENS_OUT"] = str(target.tokens_file.resolve())
    if phase.only:
        env["ONLY"] = phase.only
    if phase.dashboard:
        env |= {"K6_WEB_DASHBOARD": "true", "K6_WEB_DASHBOARD_PORT": "-1"}
        env["K6_WEB_DASHBOARD_EXPORT"] = str(files["dashboard"])
    env.update(target.extra_env)
    return env


def run_phase(
    phase: Phase,
    target: Target,
    artifacts: Path,
    *,
    probes: Mapping[str, Callable[[], Any]] | None = None,
    timeout_s: float = 600.0,
) -> Json:
    """Run k6 for one phase; return its metrics, per-endpoint numbers, samples and k6 summary."""
    artifacts.mkdir(parents=True, exist_ok=True)
    files = {
        "summary": artifacts / f"{phase.name}.summary.json",
        "raw": artifacts / f"{phase.name}.raw.json.gz",
        "dashboard": artifacts / f"{phase.name}.dashboard.html",
        "log": artifacts / f"{phase.name}.k6.log",
    }
    command = [k6_binary(), "run", "--quiet", "--no-usage-report", "--no-color"]
    if phase.raw_output:
        command.append(f"--out=json={files['raw']}")
    command.append(str(phase.script))
    started = datetime.now(UTC)
    children_before = _children_cpu_s()
    with files["log"].open("w") as log:
        process = subprocess.Popen(
            command, env=_env(phase, target, files), stdout=log, stderr=subprocess.STDOUT
        )
        loadgen = CpuMeter([process.pid])
        all_probes = {"k6_cpu": loadgen.read, **(probes or {})}
        with Sampler(all_probes) as sampler:
            try:
                exit_code = process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired as error:
                process.kill()
                process.wait()
                raise K6Error(f"k6 phase {phase.name} timed out after {timeout_s:.0f}s") from error
    finished = datetime.now(UTC)
    k6_cpu_s = _children_cpu_s() - children_before
    if exit_code not in (0, THRESHOLDS_FAILED) or not files["summary"].exists():
        tail = files["log"].read_text()[-2000:]
        raise K6Error(f"k6 phase {phase.name} failed (exit {exit_code}):\n{tail}")
    summary = json.loads(files["summary"].read_text())
    result: Json = {
        "name": phase.name,
        "mode": phase.mode,
        "target_rate": phase.rate if phase.mode == "open" else None,
        "vus": phase.vus if phase.mode == "closed" else None,
        "duration_s": phase.duration_s,
        "ramp_s": phase.ramp_s,
        "started_at": started.isoformat(),
        "finished_at": finished.isoformat(),
        "wall_s": (finished - started).total_seconds(),
        "exit_code": exit_code,
        "thresholds_passed": exit_code == 0,
        "metrics": metrics.summarize(summary, measured_s=phase.measured_s()),
        "endpoints": metrics.endpoints(summary),
        "loadgen": {**_loadgen(sampler.series("k6_cpu")), "cpu_s": k6_cpu_s},
        "samples": sampler.samples,
        "k6_summary": summary,
        "artifacts": {name: path.name for name, path in files.items() if path.exists()},
    }
    if phase.raw_output and files["raw"].exists():
        reduced = metrics.reduce_points(metrics.read_points(files["raw"]))
        result.update(reduced)
        steady = metrics.steady_rps(reduced["timeseries"], skip_s=phase.ramp_s)
        if phase.mode == "closed" and steady is not None:
            result["metrics"]["rps"] = steady
    return result


def _loadgen(cpu: list[float]) -> Json:
    # The first reading covers k6's start-up and setup(); the load is what follows.
    under_load = cpu[1:] or cpu
    stats = spread(under_load)
    return {
        "cpu_percent_mean": stats["mean"],
        "cpu_percent_max": stats["max"],
        "saturated": stats["mean"] is not None and stats["mean"] > LOADGEN_SATURATED_PERCENT,
    }


def step_phase(name: str, rate: int, duration_s: float, **options: Any) -> Phase:
    """Return an open-model step of the search (the VU pool sized from the rate)."""
    return Phase(
        name=name,
        mode="open",
        rate=rate,
        duration_s=duration_s,
        pre_vus=max(5, min(rate // 4, 200)),
        max_vus=max(20, min(rate * 2, 2000)),
        **options,
    )


def _children_cpu_s() -> float:
    # k6 is the only child the harness reaps during a phase, so the change of the reaped
    # children's CPU time over the phase is k6's own (user + system), to the tick.
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def wait_seconds(seconds: float) -> None:
    """Pause between phases (a named helper so tests can patch it out)."""
    time.sleep(seconds)
