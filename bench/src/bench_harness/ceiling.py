"""The framework ceiling: the same search and saturation as a layout, against a minimal app.

After the layouts, every run measures two apps of ceiling_apps.py on the after layout's runtime
(`python -m gunicorn -c python:service_common.gunicorn_conf`, as many workers as cores, as
core_api gets in production): a FastAPI app with one plain JSON route, and a raw ASGI app
returning the same bytes. Same k6, same profile, same criteria; only the script differs
(k6/ceiling.js: one unauthenticated GET). A layout's rates as a fraction of the FastAPI app's
say how much of what the framework could serve on this machine the layout's own work leaves.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench_harness import ui
from bench_harness.k6run import SLOW_REQUEST_GRACE_S, Phase, Target, run_phase, step_phase
from bench_harness.k6run import wait_seconds as _wait
from bench_harness.paths import CEILING_SCENARIO
from bench_harness.profiles import Profile
from bench_harness.search import Criteria, SearchPlan, step_search
from bench_harness.system import tree_cpu_s

Json = dict[str, Any]
APPS = {
    "fastapi": "bench_harness.ceiling_apps:fastapi_app",
    "asgi": "bench_harness.ceiling_apps:asgi_app",
}
GUNICORN = [sys.executable, "-m", "gunicorn", "-c", "python:service_common.gunicorn_conf"]
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class Server:
    base_url: str
    pid: int
    workers: int


def free_port() -> int:
    """Return a TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def web_workers() -> int:
    """Return the web workers core_api gets in production: one per usable core."""
    return len(os.sched_getaffinity(0))


@contextmanager
def serving(app: str, *, log: Path, workers: int) -> Iterator[Server]:
    """Run `app` under gunicorn with the services' settings; stop its process group at the end."""
    port = free_port()
    env = {
        **os.environ,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": str(workers),
        "LOG_LEVEL": "warning",
        "SERVICE_NAME": "ceiling",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # the services' metrics files: not the framework's
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as stream:
        process = subprocess.Popen(
            [*GUNICORN, app], env=env, stdout=stream, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        base_url = f"http://127.0.0.1:{port}"
        _wait_ready(base_url, process, log)
        yield Server(base_url, process.pid, workers)
    finally:
        _stop(process)


def _wait_ready(base_url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                tail = log.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"the ceiling app exited ({process.returncode}):\n{tail}")
            try:
                if client.get(f"{base_url}/").status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            _wait(0.1)
    raise RuntimeError(f"the ceiling app did not answer within {READY_TIMEOUT_S:g}s")


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the group (gunicorn stops its workers), then SIGKILL whatever is left of it."""
    _signal_group(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        _signal_group(process.pid, signal.SIGKILL)
        process.wait()
    _signal_group(process.pid, signal.SIGKILL)  # a worker that outlived its master


def measure_app(
    key: str, server: Server, *, profile: Profile, criteria: Criteria, artifacts: Path, start: int
) -> Json:
    """Search the app's sustainable rate, then drive it closed-loop for its peak."""
    target = Target(base_url=server.base_url, pool_size=0, user_count=0, password="")
    label = f"ceiling {key}"

    def measure(rate: int) -> Json:
        phase = step_phase(f"step-{rate:05d}", rate, profile.step_s, script=CEILING_SCENARIO)
        with ui.phase_progress(f"{label}: {rate} req/s", phase.measured_s()):
            step = run_phase(phase, target, artifacts)
        step["verdict"] = criteria.judge(step["metrics"])
        ui.step_line(label, rate, step)
        step.pop("samples", None)
        _wait(profile.step_cooldown_s)
        return step

    plan = SearchPlan(
        start_rate=start,
        min_rate=profile.search_min_rate,
        max_rate=profile.search_max_rate,
        max_steps=profile.search_max_steps,
        tolerance=profile.search_tolerance,
    )
    search = step_search(measure, plan)
    saturation = Phase(
        name="saturation",
        mode="closed",
        vus=profile.saturation_vus,
        ramp_s=profile.saturation_ramp_s,
        duration_s=profile.saturation_s,
        graceful_stop_s=SLOW_REQUEST_GRACE_S,
        raw_output=True,
        dashboard=profile.dashboard_export,
        script=CEILING_SCENARIO,
    )
    cpu_before = tree_cpu_s(server.pid)
    with ui.phase_progress(f"{label}: saturation", saturation.measured_s()):
        peak = run_phase(saturation, target, artifacts)
    server_cpu_s = tree_cpu_s(server.pid) - cpu_before
    peak.pop("samples", None)
    ui.phase_line(label, "saturation", peak)
    requests = peak["metrics"]["requests"]
    return {
        "app": APPS[key],
        "search": search,
        "saturation": peak,
        "server_cpu_s": server_cpu_s,
        "server_cpu_ms_per_request": server_cpu_s * 1000 / requests if requests else None,
    }


def measure_ceiling(
    *, profile: Profile, criteria: Criteria, artifacts: Path, start: int
) -> tuple[Json, list[Json]]:
    """Measure both ceiling apps; return the `ceiling` section and the failures (if any)."""
    count = web_workers()
    section: Json = {
        "runtime": {
            "command": " ".join(["python", *GUNICORN[1:], "<app>"]),
            "workers": count,
            "log_level": "warning",
        },
    }
    errors: list[Json] = []
    for key, app in APPS.items():
        folder = artifacts / f"ceiling-{key}"
        ui.console.rule(f"framework ceiling: {key} ({count} workers)")
        try:
            with serving(app, log=folder / "gunicorn.log", workers=count) as server:
                section[key] = measure_app(
                    key, server, profile=profile, criteria=criteria, artifacts=folder, start=start
                )
        except Exception as error:  # record it; the layouts' results stand without the ceiling
            ui.console.print(f"[red]ceiling {key} failed:[/] {error}")
            errors.append(
                {
                    "layout": f"ceiling-{key}",
                    "repeat": 0,
                    "error": repr(error)[:4000],
                    "traceback": traceback.format_exc()[-8000:],
                }
            )
    return section, errors
