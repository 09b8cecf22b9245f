"""Prometheus metrics per route, a Server-Timing header, JSON logs and an event-loop-lag monitor.

Under gunicorn every worker is a process with its own metrics, and a scrape of /metrics reaches
one of them. With `PROMETHEUS_MULTIPROC_DIR` set (read by prometheus_client when it is first
imported), every process writes its values to files of its own in that directory and
`metrics_payload` adds up the files of all of them: a scrape reports the whole service, whichever
worker answers it. gunicorn_conf empties the directory when the service starts and marks a
worker dead when it exits: its counters and histograms stay in the sums, its live gauges go.
Without the variable each process keeps its own registry, as uvicorn runs and the tests do.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import orjson
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    mmap_dict,
    multiprocess,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUESTS = Counter("http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.35, 0.5, 1, 2.5, 5, 10),
)
# Across workers, the worst live worker's lag: an exited worker's last sample is dropped.
LOOP_LAG = Gauge(
    "event_loop_lag_seconds",
    "How late the event loop ran a timer, last sample (the highest of the live workers)",
    multiprocess_mode="livemax",
)
# Where every process writes its metrics when a scrape must cover them all (prometheus_client
# switches on the variable's presence, as here); None: one registry per process.
MULTIPROCESS_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
# prometheus_client leaves these unannotated.
_MultiProcessCollector: Any = multiprocess.MultiProcessCollector
_MmapedDict: Any = mmap_dict.MmapedDict
# Kinds whose values add up over processes (a gauge's do per its multiprocess_mode).
_SUMMED_KINDS = ("counter", "histogram", "summary")
_FOLDED = "dead"  # counter_dead.db: the exited processes' counts, added up (fold_dead_files)


def metrics_payload() -> bytes:
    """Return the text exposition of the service's metrics: every worker's, added up, in
    multiprocess mode (a new registry per scrape, as prometheus_client requires); this
    process's otherwise."""
    if MULTIPROCESS_DIR is None:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    _MultiProcessCollector(registry, path=MULTIPROCESS_DIR)
    with _directory_lock(MULTIPROCESS_DIR, fcntl.LOCK_SH):  # scrapes read side by side
        return generate_latest(registry)


def fold_dead_files(directory: str) -> int:
    """Add the counter and histogram files of exited processes into one file per kind, delete
    theirs, and return how many were folded; the sums a scrape reports stay the same.

    gunicorn recycles a worker every MAX_REQUESTS and each leaves its files behind: unfolded,
    they pile up in memory (a tmpfs) and every scrape reads them all (~2 ms per dead worker).
    Run by the master, which alone forks workers, so no new one can take a folded pid meanwhile.
    Skipped while a scrape reads the directory (the next exit folds these too): a scrape never
    counts a process twice or not at all.
    """
    dead: dict[str, list[Path]] = {}
    for kind in _SUMMED_KINDS:
        for path in Path(directory).glob(f"{kind}_*.db"):
            pid = path.stem.removeprefix(f"{kind}_")
            if pid.isdigit() and not _running(int(pid)):
                dead.setdefault(kind, []).append(path)
    if not dead:
        return 0
    with _directory_lock(directory, fcntl.LOCK_EX | fcntl.LOCK_NB) as locked:
        if not locked:
            return 0
        for kind, paths in dead.items():
            folded = _MmapedDict(os.path.join(directory, f"{kind}_{_FOLDED}.db"))
            try:
                for path in paths:
                    for key, value, _, _ in _MmapedDict.read_all_values_from_file(str(path)):
                        total, _ = folded.read_value(key)
                        folded.write_value(key, total + value, 0.0)
                    path.unlink()
            finally:
                folded.close()
    return sum(len(paths) for paths in dead.values())


@contextmanager
def _directory_lock(directory: str, operation: int) -> Iterator[bool]:
    """Hold an flock on the directory's lock file (not a *.db: the collector skips it); yield
    whether it was taken (False only for a non-blocking request that would have waited)."""
    with open(os.path.join(directory, ".lock"), "ab") as lock:
        try:
            fcntl.flock(lock, operation)
        except BlockingIOError:
            locked = False
        else:
            locked = True
        yield locked


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's
        return True
    return True


def _route_of(scope: Scope) -> str:
    """Name a request by its route template (set by the router), not one series per user id."""
    route = scope.get("route")
    return str(getattr(route, "path", "unmatched"))


class MetricsMiddleware:
    """Pure ASGI middleware: count and time each request, add a Server-Timing header."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_timed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                elapsed_ms = (time.perf_counter() - started) * 1000
                headers = list(message.get("headers", []))
                headers.append((b"server-timing", f"app;dur={elapsed_ms:.1f}".encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_timed)
        finally:
            route = _route_of(scope)
            method = scope["method"]
            REQUESTS.labels(method, route, str(status)).inc()
            LATENCY.labels(method, route).observe(time.perf_counter() - started)


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with any `extra=` fields kept."""

    _STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": round(record.created, 3),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in self._STANDARD})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def configure_logging(level: str, *, service: str) -> None:
    """Send JSON logs to stderr; one call per process."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("service").info("logging configured", extra={"service": service})


async def monitor_loop_lag(interval_s: float = 0.5, warn_s: float = 0.1) -> None:
    """Measure how late a timer fires: a blocked event loop shows up here first."""
    log = logging.getLogger("service.loop")
    loop = asyncio.get_running_loop()
    with suppress(asyncio.CancelledError):
        while True:
            expected = loop.time() + interval_s
            await asyncio.sleep(interval_s)  # the probe itself: a timer whose lateness is the lag
            lag = max(0.0, loop.time() - expected)
            LOOP_LAG.set(lag)
            if lag > warn_s:
                log.warning("event loop lag", extra={"lag_ms": round(lag * 1000, 1)})
