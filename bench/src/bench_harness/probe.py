"""Per-request evidence: send each request type of the mix a few times, one at a time, and read
the evidence headers (statements, internal hops, hop depth) and PostgreSQL's own count.

The first request of each type warms caches; the next `repeats` are measured, so the numbers are
the warm-cache figures (the state the hot path runs in under load).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import httpx

from bench_harness.database import Postgres, count_statements

Json = dict[str, Any]
User = dict[str, Any]
HEADERS = {
    "db_statements": "X-Evidence-DB-Statements",
    "hops": "X-Evidence-Hops",
    "hop_depth": "X-Evidence-Hop-Depth",
}


def _requests(user: User, password: str, email: str) -> dict[str, Callable[[httpx.Client], Any]]:
    auth = {"Authorization": f"Bearer {user['token']}"}
    prefs = {"theme": "dark", "locale": "en", "email_notifications": False, "webhook_url": None}
    prefs |= user.get("prefs") or {}
    counter = iter(range(1_000_000))
    return {
        "dashboard": lambda c: c.get("/v1/me/dashboard", headers=auth),
        "me": lambda c: c.get("/v1/me", headers=auth),
        "events_page": lambda c: c.get("/v1/me/events", params={"limit": 20}, headers=auth),
        "public_profile": lambda c: c.get(f"/v1/users/{user['id']}", headers=auth),
        "patch_profile": lambda c: c.patch("/v1/me", json={"bio": "bench probe"}, headers=auth),
        "put_prefs": lambda c: c.put("/v1/me/prefs", json=prefs, headers=auth),
        "create_report": lambda c: c.post(
            "/v1/reports",
            json={"kind": "activity_pdf", "days": 7},
            headers=auth | {"Idempotency-Key": f"bench-probe-{time.time_ns()}-{next(counter)}"},
        ),
        "list_reports": lambda c: c.get("/v1/reports", headers=auth),
        "login": lambda c: c.post("/v1/auth/login", json={"email": email, "password": password}),
    }


def _header(response: httpx.Response, name: str) -> float | None:
    value = response.headers.get(name)
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _median(values: list[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return statistics.median(present) if present else None


def probe_requests(
    base_url: str,
    user: User,
    *,
    password: str,
    email: str,
    repeats: int,
    postgres: Postgres | None,
    weights: dict[str, float],
    quiet_timeout_s: float = 30.0,
) -> Json:
    """Return per request type: statuses, evidence headers, latency and statements per request."""
    types: Json = {}
    warnings: list[str] = []
    with httpx.Client(base_url=base_url, timeout=30.0) as client:
        for name, send in _requests(user, password, email).items():
            # Logins are rate limited and deliberately slow (Argon2): one measured call is enough.
            count = 1 if name == "login" else repeats
            send(client)
            if postgres is not None:
                # The counts must be this request's alone: let earlier work (a warm-up backlog,
                # a job still rendering) finish first.
                still_busy = wait_until_quiet(postgres, quiet_timeout_s)
                if still_busy:
                    warnings.append(
                        f"probe {name}: PostgreSQL still ran {still_busy} other statement(s) "
                        f"after {quiet_timeout_s:g} s; its counts may include that work"
                    )
                postgres.reset_statements()
            responses, latencies = [], []
            for _ in range(count):
                started = time.perf_counter()
                responses.append(send(client))
                latencies.append((time.perf_counter() - started) * 1000)
            entry: Json = {
                "statuses": sorted({response.status_code for response in responses}),
                "latency_ms_median": statistics.median(latencies),
                "samples": count,
            }
            for key, header in HEADERS.items():
                entry[key] = _median([_header(response, header) for response in responses])
            if postgres is not None:
                counted = count_statements(postgres.statements())
                entry["pg_statements_per_request"] = counted["statements"] / count
                entry["pg_queries_per_request"] = counted["queries"] / count
            types[name] = entry
    return {"types": types, "mix": weighted(types, weights), "warnings": warnings}


def wait_until_quiet(postgres: Postgres, timeout_s: float) -> int:
    """Wait until no other connection runs a statement; return how many still do at timeout."""
    deadline = time.monotonic() + timeout_s
    while (busy := postgres.busy()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return busy


def weighted(types: Json, weights: dict[str, float]) -> Json:
    """Return the mix-weighted mean of each evidence figure over the probed request types."""
    figures = ("db_statements", "hops", "hop_depth", "pg_statements_per_request")
    result: Json = {}
    for figure in figures:
        pairs = [
            (weights[name], entry[figure])
            for name, entry in types.items()
            if name in weights and entry.get(figure) is not None
        ]
        total = sum(weight for weight, _ in pairs)
        result[figure] = sum(weight * value for weight, value in pairs) / total if total else None
    return result
