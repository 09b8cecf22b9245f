"""Redis dies under load: reads fail open to PostgreSQL, login fails closed, all comes back."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from fault_support import (
    Figures,
    Load,
    first_success_after,
    own_after_stack,
    register_and_login,
    run_load,
    summarize,
)

pytestmark = pytest.mark.slow

RATE = 40  # requests a second: well below what a loaded 2-core machine sustains
BEFORE_S, FAULT_S, AFTER_S = 3.0, 6.0, 6.0
LOGIN_EVERY_S = 0.5


def test_reads_survive_a_redis_outage_and_login_fails_closed(figures: Figures) -> None:
    with own_after_stack("redis") as stack:
        with httpx.Client(base_url=stack.base_url, timeout=30, trust_env=False) as client:
            users = [register_and_login(client, f"redis{i}") for i in range(4)]
            login_body = {"email": "nobody@example.com", "password": "wrong-password"}
        paths = ("/v1/me", "/v1/me/dashboard", "/v1/me/events?limit=5")

        async def read(http: httpx.AsyncClient, index: int) -> httpx.Response:
            _, auth = users[index % len(users)]
            return await http.get(paths[index % len(paths)], headers=auth)

        async def scenario() -> tuple[Load, list[tuple[float, int, dict[str, str]]], float, float]:
            load = Load(RATE)
            reads = asyncio.create_task(
                run_load(
                    stack.base_url, read, rate=RATE, duration_s=BEFORE_S + FAULT_S + AFTER_S,
                    load=load,
                )
            )  # fmt: skip
            logins: list[tuple[float, int, dict[str, str]]] = []
            async with httpx.AsyncClient(base_url=stack.base_url, timeout=10) as http:

                async def probe_logins(until: float) -> None:
                    while time.monotonic() < until:
                        # A wrong password: 401 while the limiter counts, 503 while it cannot.
                        response = await http.post("/v1/auth/login", json=login_body)
                        logins.append((time.monotonic(), response.status_code, response.json()))
                        await asyncio.sleep(LOGIN_EVERY_S)

                await asyncio.sleep(BEFORE_S)
                await asyncio.to_thread(stack.infra.stop_redis)
                stopped = time.monotonic()
                await probe_logins(stopped + FAULT_S)
                await asyncio.to_thread(stack.infra.start_redis)
                started = time.monotonic()
                await probe_logins(started + AFTER_S)
            await reads
            return load, logins, stopped, started

        load, logins, stopped, started = asyncio.run(scenario())
        exits = stack.supervisor.unexpected_exits

    during = load.window(stopped, started)
    during_logins = [(status, body) for moment, status, body in logins if moment < started]
    after_logins = [(moment, status) for moment, status, _ in logins if moment >= started]
    login_back = next((m - started for m, status in after_logins if status == 401), None)
    figures.record(
        fault="Redis stopped (SIGTERM) while reads and logins ran, then started again, empty",
        load=f"{RATE} req/s of GET /v1/me, /v1/me/dashboard, /v1/me/events; a login every "
        f"{LOGIN_EVERY_S} s",
        fault_window_s=round(started - stopped, 1),
        before=summarize(load.window(load.started, stopped)),
        during=summarize(during),
        after=summarize(load.window(started, load.ended)),
        logins_during={
            str(s): sum(1 for x, _ in during_logins if x == s) for s, _ in during_logins
        },
        read_recovery_s=first_success_after(load.outcomes, started),
        login_recovery_s=None if login_back is None else round(login_back, 2),
        processes_died=[report.name for report in exits],
    )

    assert not exits, [str(report) for report in exits]
    assert during, "no read ran during the outage"
    failed = [o for o in during if not o.ok]
    # Fails open: the cache is a speed-up, never a dependency of a read.
    assert not failed, summarize(failed)
    assert during_logins, "no login was tried during the outage"
    for status, body in during_logins:
        assert status == 503 and body["error"] == "service_unavailable", (status, body)
    assert login_back is not None, f"login never counted again after Redis came back: {logins}"
    assert all(o.ok for o in load.window(started + 1.0, load.ended)), "reads did not recover"
