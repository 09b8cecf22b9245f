"""PostgreSQL restarts under load: requests in the gap fail fast, pools recover, no half writes."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from fault_support import (
    Figures,
    Load,
    fetch,
    first_success_after,
    own_after_stack,
    register_and_login,
    run_load,
    summarize,
)

pytestmark = pytest.mark.slow

RATE = 30
BEFORE_S, AFTER_S = 3.0, 8.0
# A request may wait for a peer's budget (identity 3 s) plus a pool checkout (5 s); none may hang.
HANG_LIMIT_S = 10.0


def test_a_postgres_restart_fails_fast_recovers_and_applies_no_write_by_half(
    figures: Figures,
) -> None:
    with own_after_stack("postgres") as stack:
        with httpx.Client(base_url=stack.base_url, timeout=30, trust_env=False) as client:
            users = [register_and_login(client, f"pg{i}") for i in range(3)]

        patches_sent = 0

        async def mixed(http: httpx.AsyncClient, index: int) -> httpx.Response:
            nonlocal patches_sent
            _, auth = users[index % len(users)]
            if index % 3 == 0:
                patches_sent += 1
                # A write that touches two tables in one transaction: the profile and an event.
                return await http.patch("/v1/me", json={"bio": f"write {index}"}, headers=auth)
            if index % 3 == 1:
                return await http.get("/v1/me/events?limit=5", headers=auth)  # never cached
            return await http.get("/v1/me/dashboard", headers=auth)

        async def scenario() -> tuple[Load, float, float]:
            load, stop = Load(RATE), asyncio.Event()
            running = asyncio.create_task(
                run_load(stack.base_url, mixed, rate=RATE, duration_s=60, load=load, stop=stop)
            )
            await asyncio.sleep(BEFORE_S)
            began = time.monotonic()
            await asyncio.to_thread(stack.infra.restart_postgres)
            back = time.monotonic()
            await asyncio.sleep(AFTER_S)
            stop.set()
            await running
            return load, began, back

        load, began, back = asyncio.run(scenario())
        exits = stack.supervisor.unexpected_exits
        patch_ok = sum(1 for o in load.outcomes if o.name == "/v1/me" and o.ok)
        applied = _count_profile_events(stack.database_dsn, [uid for uid, _ in users])

    gap = load.overlapping(began, back)
    failed = [o for o in gap if not o.ok]
    patch_sent = patches_sent
    figures.record(
        fault="PostgreSQL restarted (fast shutdown, same data, same port) under mixed load",
        load=f"{RATE} req/s: PATCH /v1/me, GET /v1/me/events, GET /v1/me/dashboard in turn",
        fault_window_s=round(back - began, 1),
        before=summarize(load.window(load.started, began)),
        during=summarize(gap),
        after=summarize(load.window(back, load.ended)),
        error_statuses=sorted({o.kind for o in failed}),
        recovery_s=first_success_after(load.outcomes, back),
        slowest_ms=round(max(o.latency for o in load.outcomes) * 1000, 1),
        writes_answered_ok=patch_ok,
        writes_answered=patch_sent,
        writes_applied=applied,
        processes_died=[report.name for report in exits],
    )

    assert not exits, [str(report) for report in exits]
    assert all(o.latency < HANG_LIMIT_S for o in load.outcomes), "a request hung"
    for outcome in failed:
        # Fails fast and says so: the error shape with a 5xx that blames availability.
        assert outcome.status in (503, 504), (outcome.kind, outcome.body)
        assert b'"error"' in outcome.body, outcome.body
    recovered = load.window(back + 3.0, load.ended)
    assert recovered and all(o.ok for o in recovered), summarize(recovered)
    # One transaction per PATCH: each acknowledged write left its event, none left only half.
    assert patch_ok <= applied <= patch_sent, (patch_ok, applied, patch_sent)


def _count_profile_events(dsn: str, user_ids: list[int]) -> int:
    """Count the profile.updated events the PATCHes wrote, and check each matches its profile."""
    rows = fetch(
        dsn,
        "SELECT p.user_id, p.bio, count(e.id) FROM users.profiles AS p "
        "LEFT JOIN users.events AS e ON e.user_id = p.user_id AND e.kind = 'profile.updated' "
        "WHERE p.user_id = ANY($1::bigint[]) GROUP BY p.user_id, p.bio",
        user_ids,
    )
    for user_id, bio, events in rows:
        # A profile with a PATCHed bio and no event (or the reverse) is a half-applied write.
        assert (bio != "") == (events > 0), (user_id, bio, events)
    return sum(events for _, _, events in rows)
