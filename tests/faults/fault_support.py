"""Helpers of the fault tests (imported by name: conftest puts this folder on sys.path).

Load is an open model: requests start at a fixed rate whatever the server does (a slow server
is not hidden by a client that waits for it), bounded by a concurrency cap, a count and a
duration. Every request is recorded with its start, end, status or error, so a test can cut the
run into windows (before, during and after a fault) and count what failed where.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
from stack_launcher.infra import provide_infra
from stack_launcher.pg import run_sync
from stack_launcher.stack import Stack, run_stack

PASSWORD = "fault-tests-password"
RESULTS_ENV = "RELIABILITY_RESULTS"

# The error classes a client sees when no response came back at all.
REFUSED = "refused"  # the connection was never established: nothing was accepted, nothing lost
NO_RESPONSE = "no_response"  # sent on a live connection, then the connection died: lost
TIMED_OUT = "timeout"


@contextmanager
def own_after_stack(
    name: str, *, scale: str = "tiny", extra_env: dict[str, str] | None = None, **options: Any
) -> Iterator[Stack]:
    """Run an after layout on infra of its own, in a scratch tree the embedded PostgreSQL can
    enter (it runs as an unprivileged user when the suite runs as root)."""
    workdir = Path(tempfile.mkdtemp(prefix=f"fault-{name}-"))
    workdir.chmod(0o755)
    try:
        with ExitStack() as stack:
            infra = stack.enter_context(provide_infra(workdir / "infra"))
            yield stack.enter_context(
                run_stack(
                    "after",
                    workdir=workdir / "stack",
                    scale=scale,
                    environment="test",
                    infra=infra,
                    extra_env=extra_env,
                    **options,
                )
            )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@dataclass
class Outcome:
    """One request of a load run."""

    name: str
    started: float
    ended: float
    status: int | None
    error: str | None = None
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status is not None and self.status < 400

    @property
    def latency(self) -> float:
        return self.ended - self.started

    @property
    def server_ms(self) -> float | None:
        """Return the time the app spent on it (its Server-Timing), queueing before it excluded."""
        timing = self.headers.get("server-timing", "")
        for part in timing.split(","):
            name, _, duration = part.strip().partition(";dur=")
            if name == "app" and duration:
                return float(duration)
        return None

    @property
    def kind(self) -> str:
        """Name the result: the status code, or the class of transport failure."""
        return str(self.status) if self.status is not None else str(self.error)


RequestFn = Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]]


@dataclass
class Load:
    """A running or finished open-model load: its outcomes and when it ran."""

    rate: float
    outcomes: list[Outcome] = field(default_factory=list)
    dropped: int = 0  # starts skipped because `concurrency` requests were already in flight
    started: float = 0.0
    ended: float = 0.0

    def window(self, start: float, end: float) -> list[Outcome]:
        """Return the requests that started in [start, end)."""
        return [o for o in self.outcomes if start <= o.started < end]

    def overlapping(self, start: float, end: float) -> list[Outcome]:
        """Return the requests that were in flight at any moment of [start, end)."""
        return [o for o in self.outcomes if o.started < end and o.ended >= start]


async def run_load(
    base_url: str,
    request: RequestFn,
    *,
    rate: float,
    duration_s: float,
    concurrency: int = 64,
    max_requests: int = 20_000,
    timeout_s: float = 15.0,
    keepalive: bool = True,
    load: Load | None = None,
    stop: asyncio.Event | None = None,
) -> Load:
    """Start `request` `rate` times a second for `duration_s` (bounded) or until `stop` is set,
    then wait for the requests in flight."""
    load = load or Load(rate)
    load.rate = rate
    limits = httpx.Limits(
        max_connections=concurrency, max_keepalive_connections=concurrency if keepalive else 0
    )
    slots = asyncio.Semaphore(concurrency)
    tasks: set[asyncio.Task[None]] = set()
    async with httpx.AsyncClient(
        base_url=base_url, timeout=timeout_s, limits=limits, trust_env=False
    ) as client:

        async def one(index: int, started: float) -> None:
            try:
                try:
                    response = await request(client, index)
                except httpx.ConnectError:
                    outcome = Outcome("", started, time.monotonic(), None, REFUSED)
                except httpx.TimeoutException:
                    outcome = Outcome("", started, time.monotonic(), None, TIMED_OUT)
                except httpx.TransportError as exc:
                    outcome = Outcome("", started, time.monotonic(), None, NO_RESPONSE)
                    outcome.body = repr(exc).encode()
                else:
                    outcome = Outcome(
                        response.request.url.path,
                        started,
                        time.monotonic(),
                        response.status_code,
                        body=response.content[:500],
                        headers=dict(response.headers),
                    )
                load.outcomes.append(outcome)
            finally:
                slots.release()

        load.started = time.monotonic()
        interval = 1.0 / rate
        for index in range(min(max_requests, int(rate * duration_s))):
            due = load.started + index * interval
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            if stop is not None and stop.is_set():
                break
            if slots.locked():
                load.dropped += 1
                continue
            await slots.acquire()
            task = asyncio.create_task(one(index, time.monotonic()))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.wait(tasks, timeout=timeout_s + 5)
        load.ended = time.monotonic()
    return load


def summarize(outcomes: list[Outcome]) -> dict[str, Any]:
    """Return counts by result and latency percentiles of a set of requests."""
    kinds: dict[str, int] = {}
    for outcome in outcomes:
        kinds[outcome.kind] = kinds.get(outcome.kind, 0) + 1
    latencies = sorted(o.latency for o in outcomes)
    ok = [o.latency for o in outcomes if o.ok]
    return {
        "requests": len(outcomes),
        "ok": sum(1 for o in outcomes if o.ok),
        "errors": sum(1 for o in outcomes if not o.ok),
        "by_result": dict(sorted(kinds.items())),
        "p50_ms": _ms(percentile(latencies, 50)),
        "p95_ms": _ms(percentile(latencies, 95)),
        "max_ms": _ms(latencies[-1] if latencies else None),
        "ok_p95_ms": _ms(percentile(sorted(ok), 95)),
    }


def percentile(sorted_values: list[float], pct: float) -> float | None:
    if not sorted_values:
        return None
    if len(sorted_values) == 1:
        return sorted_values[0]
    return statistics.quantiles(sorted_values, n=100, method="inclusive")[int(pct) - 1]


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def first_success_after(outcomes: list[Outcome], moment: float) -> float | None:
    """Return how long after `moment` requests succeed again for good (None: they never do)."""
    later = sorted((o for o in outcomes if o.started >= moment), key=lambda o: o.started)
    last_failure = max((o.started for o in later if not o.ok), default=None)
    settled = [o for o in later if o.ok and (last_failure is None or o.started > last_failure)]
    return None if not settled else round(settled[0].started - moment, 2)


def unique_email(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"


def register_and_login(
    client: httpx.Client, prefix: str, *, forwarded_for: str | None = None
) -> tuple[int, dict[str, str]]:
    """Register a fresh user and return its id and bearer header."""
    email = unique_email(prefix)
    body = {"email": email, "password": PASSWORD, "display_name": prefix.title()}
    registered = client.post("/v1/auth/register", json=body)
    assert registered.status_code == 201, registered.text
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    login = client.post(
        "/v1/auth/login", json={"email": email, "password": PASSWORD}, headers=headers
    )
    assert login.status_code == 200, login.text
    return registered.json()["id"], {"Authorization": f"Bearer {login.json()['access_token']}"}


def wait_until(predicate: Callable[[], Any], *, timeout: float, interval: float = 0.2) -> Any:
    """Poll until `predicate` is truthy; return its value or raise AssertionError."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


def fetch(dsn: str, query: str, *args: Any) -> list[Any]:
    """Run one query on the stack's database and return its rows."""

    async def run() -> list[Any]:
        connection = await asyncpg.connect(dsn)
        try:
            return list(await connection.fetch(query, *args))
        finally:
            await connection.close()

    return run_sync(run())


def rss_mb(stack: Stack) -> dict[str, float]:
    """Return the resident memory of each service process tree, in MB."""
    return {s.name: round(s.rss_bytes / 2**20, 1) for s in stack.supervisor.stats()}


class Figures:
    """The numbers one test publishes; written as JSON when RELIABILITY_RESULTS is set."""

    def __init__(self, suite: str, name: str) -> None:
        self.suite = suite
        self.name = name
        self.data: dict[str, Any] = {}

    def record(self, **values: Any) -> None:
        self.data.update(values)

    def write(self, outcome: str) -> Path | None:
        directory = os.environ.get(RESULTS_ENV)
        if not directory:
            return None
        path = Path(directory) / self.suite / f"{self.name}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        document = {"suite": self.suite, "test": self.name, "outcome": outcome, **self.data}
        path.write_text(json.dumps(document, indent=2, sort_keys=True, default=str) + "\n")
        return path
