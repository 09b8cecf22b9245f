"""/metrics reports the whole service, not the worker that happens to answer the scrape.

A real gunicorn (service_common.gunicorn_conf, two uvicorn workers) serves a small app built by
`create_app`, with PROMETHEUS_MULTIPROC_DIR set as the launcher and the manifests set it. Each
request goes on a new connection, so both workers serve some; every scrape must then count all
of them, whichever worker answers it, and keep counting a worker that was SIGKILLed. Without
the variable (in process, as in the services' own suites) a process reports its own metrics.
"""

from __future__ import annotations

import fcntl
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.mmap_dict import MmapedDict, mmap_key
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families
from service_common.app import create_app
from service_common.observability import fold_dead_files
from service_common.settings import ServiceSettings
from service_common.testing import serve

PROBE_APP = """
import os
from contextlib import asynccontextmanager

from fastapi import APIRouter
from service_common.app import create_app
from service_common.observability import fold_dead_files
from service_common.settings import ServiceSettings

router = APIRouter()


@router.get("/pid")
async def pid() -> dict[str, int]:
    return {"pid": os.getpid()}


@asynccontextmanager
async def lifespan(_app):
    yield {}


app = create_app(
    name="metrics-probe",
    settings=ServiceSettings(environment="development", log_level="WARNING"),
    lifespan=lifespan,
    routers=[router],
)
"""
STALE_COUNT = 1000.0  # what a previous run left in the directory: gone once gunicorn starts


def requests_to(metrics: str, route: str) -> float:
    """Sum http_requests_total over the samples of `route` in a text exposition."""
    return sum(
        sample.value
        for family in text_string_to_metric_families(metrics)
        for sample in family.samples
        if sample.name == "http_requests_total" and sample.labels.get("route") == route
    )


def samples_of(metrics: str, name: str) -> list[dict[str, str]]:
    """Return the label sets of the samples called `name`."""
    return [
        sample.labels
        for family in text_string_to_metric_families(metrics)
        for sample in family.samples
        if sample.name == name
    ]


def get(url: str) -> httpx.Response:
    """GET on a connection of its own (a new client each time)."""
    response = httpx.get(url, timeout=10, trust_env=False)
    response.raise_for_status()
    return response


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


Sample = tuple[str, str, tuple[tuple[str, str], ...]]  # metric, sample name, labels


def write_values(path: Path, values: dict[Sample, float]) -> None:
    """Write a metrics file as a process in multiprocess mode writes its own."""
    file = MmapedDict(str(path))
    for (metric, sample, labels), value in values.items():
        names, label_values = [n for n, _ in labels], [v for _, v in labels]
        file.write_value(mmap_key(metric, sample, names, label_values, "help"), value, 0.0)
    file.close()


def requests_of(route: str) -> Sample:
    labels = (("method", "GET"), ("route", route), ("status", "200"))
    return ("http_requests", "http_requests_total", labels)


def leave_a_stale_count(directory: Path) -> None:
    """Write the file a dead process of an earlier run would have left: 1000 GETs of /pid."""
    write_values(directory / "counter_1.db", {requests_of("/pid"): STALE_COUNT})


@pytest.fixture
def gunicorn(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """Run the probe app under gunicorn with two workers; yield its base URL and metrics dir."""
    (tmp_path / "metrics_probe.py").write_text(PROBE_APP)
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    leave_a_stale_count(metrics_dir)
    port = free_port()
    env = {
        **os.environ,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        "LOG_LEVEL": "warning",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")])),
    }
    argv = [sys.executable, "-m", "gunicorn", "-c", "python:service_common.gunicorn_conf"]
    log = tmp_path / "gunicorn.log"
    with log.open("w") as stderr:
        process = subprocess.Popen([*argv, "metrics_probe:app"], env=env, stderr=stderr)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, f"gunicorn exited:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"gunicorn not up in 30 s:\n{log.read_text()}"
            try:
                get(f"{url}/healthz")
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield url, metrics_dir
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def serve_from_both_workers(url: str) -> list[int]:
    """Send GET /pid on new connections, a few at once, until both workers answered some;
    return the pid that answered each request."""
    pids: list[int] = []
    with ThreadPoolExecutor(4) as pool:
        while len(set(pids)) < 2 or len(pids) < 40:
            assert len(pids) < 2000, f"one worker served all {len(pids)} requests"
            pids += pool.map(lambda _: int(get(f"{url}/pid").json()["pid"]), range(20))
    return pids


def test_every_scrape_counts_the_requests_of_every_worker(gunicorn: tuple[str, Path]) -> None:
    url, metrics_dir = gunicorn
    assert not (metrics_dir / "counter_1.db").exists(), "the master empties the directory"
    pids = serve_from_both_workers(url)
    sent = len(pids)

    # Each worker served fewer than `sent`: a scrape of one worker's registry would be short.
    scrapes = [get(f"{url}/metrics").text for _ in range(8)]
    assert [requests_to(text, "/pid") for text in scrapes] == [sent] * 8
    # Gauges are one number for the service (livesum, livemax), not one series per worker pid.
    for name in ("http_requests_in_flight", "event_loop_lag_seconds"):
        assert all(len(samples_of(text, name)) <= 1 for text in scrapes), name
        assert not any("pid" in labels for text in scrapes for labels in samples_of(text, name))
    assert [samples_of(text, "http_requests_in_flight") for text in scrapes] == [[{}]] * 8

    # A worker killed outright: the master marks it dead (its live gauges go) and folds its
    # counts into the exited workers' files; they stay in the sums.
    dead = pids[0]
    os.kill(dead, signal.SIGKILL)
    deadline = time.monotonic() + 15
    while list(metrics_dir.glob(f"*_{dead}.db")):
        assert time.monotonic() < deadline, f"child_exit left {list(metrics_dir.glob('*.db'))}"
        time.sleep(0.05)
    assert (metrics_dir / "counter_dead.db").exists()
    after = [requests_to(get(f"{url}/metrics").text, "/pid") for _ in range(8)]
    assert after == [sent] * 8


async def test_without_the_directory_a_process_reports_its_own_metrics() -> None:
    assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ
    router = APIRouter()

    @router.get("/in-process")
    async def in_process() -> dict[str, bool]:
        return {"ok": True}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[dict[str, Any]]:
        yield {}

    app = create_app(name="t", settings=ServiceSettings(), lifespan=lifespan, routers=[router])
    async with serve(app) as (client, _):
        before = requests_to((await client.get("/metrics")).text, "/in-process")
        for _ in range(3):
            assert (await client.get("/in-process")).status_code == 200
        metrics = await client.get("/metrics")
    assert metrics.headers["content-type"].startswith("text/plain")
    assert requests_to(metrics.text, "/in-process") == before + 3
    assert samples_of(metrics.text, "process_cpu_seconds_total"), "the default collectors stay"


def exited_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_exited_processes_files_fold_into_one_and_the_sums_stay(tmp_path: Path) -> None:
    live, dead = os.getpid(), [exited_pid(), exited_pid()]
    bucket: Sample = ("latency", "latency_bucket", (("le", "0.1"), ("route", "/a")))
    write_values(tmp_path / f"counter_{live}.db", {requests_of("/a"): 5, requests_of("/b"): 1})
    write_values(tmp_path / f"counter_{dead[0]}.db", {requests_of("/a"): 7})
    write_values(tmp_path / f"counter_{dead[1]}.db", {requests_of("/a"): 1, requests_of("/c"): 2})
    write_values(tmp_path / f"histogram_{dead[0]}.db", {bucket: 3})
    write_values(tmp_path / f"gauge_livesum_{dead[0]}.db", {("g", "g", ()): 1})  # not folded

    def scrape() -> list[tuple[str, list[tuple[str, str]], float]]:
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(tmp_path))
        families = text_string_to_metric_families(generate_latest(registry).decode())
        found = [(s.name, sorted(s.labels.items()), s.value) for f in families for s in f.samples]
        return sorted(found)

    before = scrape()
    assert ("http_requests_total", sorted(requests_of("/a")[2]), 13.0) in before
    with (tmp_path / ".lock").open("ab") as scraping:
        fcntl.flock(scraping, fcntl.LOCK_SH)  # a scrape reading: nothing moves under it
        assert fold_dead_files(str(tmp_path)) == 0
    assert fold_dead_files(str(tmp_path)) == 3
    assert sorted(p.name for p in tmp_path.glob("*.db")) == sorted(
        [
            f"counter_{live}.db",
            "counter_dead.db",
            "histogram_dead.db",
            f"gauge_livesum_{dead[0]}.db",
        ]
    )
    assert scrape() == before
    assert fold_dead_files(str(tmp_path)) == 0
