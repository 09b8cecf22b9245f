"""Fixtures: a tiny stand-in of the public /v1 API (stdlib HTTP server, the statuses the
scenario expects), and synthetic result documents."""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

PASSWORD = "seed-password-for-bench"
USERS = 30
EVIDENCE = {"X-Evidence-DB-Statements": "2", "X-Evidence-Hops": "1", "X-Evidence-Hop-Depth": "1"}


class FakeApi(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.calls: Counter[str] = Counter()
        self.throttled: set[int] = set()
        self.lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    server: FakeApi
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib signature)
        return

    def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        payload = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        for name, value in {**EVIDENCE, **(headers or {})}.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"null")

    def _user(self) -> int | None:
        match = re.fullmatch(r"Bearer tok-(\d+)", self.headers.get("Authorization", ""))
        return int(match.group(1)) if match else None

    def _route(self, method: str) -> None:
        path = self.path.split("?")[0]
        body = self._body() if method in ("POST", "PATCH", "PUT") else None
        with self.server.lock:
            self.server.calls[f"{method} {path}"] += 1
        if (method, path) == ("POST", "/v1/auth/login"):
            return self._login(body)
        if path in ("/healthz", "/readyz"):
            return self._send(200, {"status": "ok"})
        user = self._user()
        if user is None:
            return self._send(401, {"error": "unauthorized", "detail": "no token"})
        me = {"id": user, "email": f"user{user}@example.com", "display_name": f"User {user}"}
        prefs = {"theme": "dark", "locale": "en", "email_notifications": True, "webhook_url": None}
        routes = {
            ("GET", "/v1/me"): (200, {**me, "bio": "", "avatar_url": None, "prefs": prefs}),
            ("PATCH", "/v1/me"): (200, {**me, "bio": (body or {}).get("bio")}),
            ("PUT", "/v1/me/prefs"): (200, body),
            ("GET", "/v1/me/dashboard"): (
                200,
                {"user": me, "recent_events": [], "stats": {}, "recent_reports": []},
            ),
            ("GET", "/v1/me/events"): (200, {"items": [], "next_cursor": None}),
            ("POST", "/v1/reports"): (202, {"id": "r-1", "status": "queued"}),
            ("GET", "/v1/reports"): (200, []),
        }
        public = re.fullmatch(r"/v1/users/(\d+)", path)
        if method == "GET" and public:
            found = int(public.group(1)) <= USERS
            return self._send(200 if found else 404, {"id": int(public.group(1))})
        status, payload = routes.get((method, path), (404, {"error": "not_found", "detail": path}))
        return self._send(status, payload)

    def _login(self, body: dict[str, str]) -> None:
        match = re.fullmatch(r"user(\d+)@example\.com", body.get("email", ""))
        if not match or body.get("password") != PASSWORD:
            return self._send(401, {"error": "unauthorized", "detail": "bad credentials"})
        user = int(match.group(1))
        with self.server.lock:
            first_time = user == 2 and user not in self.server.throttled
            self.server.throttled.add(user)
        if first_time:  # one 429 so the setup's retry path runs too
            return self._send(
                429, {"error": "rate_limited", "detail": "slow down"}, {"Retry-After": "0.2"}
            )
        tokens = {
            "access_token": f"tok-{user}",
            "refresh_token": f"ref-{user}",
            "token_type": "bearer",
            "expires_in": 900,
        }
        return self._send(200, tokens)

    def do_GET(self) -> None:  # noqa: N802 (stdlib naming)
        self._route("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._route("POST")

    def do_PATCH(self) -> None:  # noqa: N802
        self._route("PATCH")

    def do_PUT(self) -> None:  # noqa: N802
        self._route("PUT")


@pytest.fixture
def fake_api() -> Iterator[FakeApi]:
    server = FakeApi()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _phase(name: str, rate: float, p95: float, *, raw: bool) -> dict[str, Any]:
    latency = {
        "avg": p95 / 2,
        "min": 1.0,
        "p50": p95 / 3,
        "p90": p95 * 0.8,
        "p95": p95,
        "p99": p95 * 1.5,
        "max": p95 * 3,
    }
    phase: dict[str, Any] = {
        "name": name,
        "mode": "open",
        "target_rate": int(rate),
        "vus": None,
        "duration_s": 10,
        "ramp_s": 0,
        "started_at": "2026-01-01T00:00:00+00:00",
        "finished_at": "2026-01-01T00:00:10+00:00",
        "wall_s": 10.5,
        "exit_code": 0,
        "thresholds_passed": True,
        "metrics": {
            "requests": int(rate * 10),
            "rps": rate,
            "latency_ms": latency,
            "error_rate": 0.0,
            "errors": 0,
            "dropped_iterations": 0,
            "dropped_ratio": 0.0,
            "checks_rate": 1.0,
            "vus_max": 10,
            "rate_limited": 0,
        },
        "endpoints": {
            "dashboard": {"requests": int(rate * 5), "latency_ms": latency, "error_rate": 0.0}
        },
        "loadgen": {"cpu_percent_mean": 20.0, "cpu_percent_max": 30.0, "saturated": False},
        "samples": [],
        "k6_summary": {"metrics": {}},
        "artifacts": {},
    }
    if raw:
        phase["timeseries"] = [
            {
                "t": t,
                "count": int(rate),
                "errors": 0,
                "p50": p95 / 3,
                "p95": p95 + t,
                "p99": p95 * 1.5,
            }
            for t in range(10)
        ]
        counts = [0] * 61
        counts[30], counts[35] = 70, 30
        edges = [round(10 ** (e / 10), 3) for e in range(-10, 50)]
        phase["histogram"] = {"edges_ms": edges, "counts": counts}
    return phase


def synthetic_run(
    layout: str,
    *,
    rps: float,
    p95: float,
    queries: float,
    hops: float,
    rss_mb: float,
    repeat: int = 0,
) -> dict[str, Any]:
    steps = []
    for rate, passed in ((rps / 2, True), (rps, True), (rps * 2, False)):
        step = _phase(f"step-{int(rate)}", rate, p95 if passed else p95 * 20, raw=False)
        step["verdict"] = {
            "p95_ok": passed,
            "errors_ok": True,
            "dropped_ok": True,
            "served": True,
            "passed": passed,
        }
        steps.append(step)
    probe_type = {
        "statuses": [200],
        "latency_ms_median": p95 / 4,
        "samples": 3,
        "db_statements": queries,
        "hops": hops,
        "hop_depth": hops,
        "pg_statements_per_request": queries + 2,
        "pg_queries_per_request": queries,
    }
    return {
        "layout": layout,
        "repeat": repeat,
        "started_at": "2026-01-01T00:00:00+00:00",
        "finished_at": "2026-01-01T00:05:00+00:00",
        "artifacts_dir": f"x/{layout}-r1",
        "stack": {
            "base_url": "http://127.0.0.1:1",
            "pool_size": 5,
            "user_count": 50,
            "postgres_version": "18",
            "redis_version": "6.2",
            "processes": [],
        },
        "phases": {
            "warmup": _phase("warmup", 5, p95, raw=False),
            "fixed": _phase("fixed", 50, p95, raw=True),
            "saturation": _phase("saturation", rps * 1.3, p95 * 5, raw=True),
        },
        "search": {
            "sustainable_rps": int(rps),
            "lowest_failing_rps": int(rps * 2),
            "converged": True,
            "steps": steps,
        },
        "evidence": {
            "probe": {
                "types": {"dashboard": probe_type, "me": probe_type},
                "mix": {
                    "db_statements": queries,
                    "hops": hops,
                    "hop_depth": hops,
                    "pg_statements_per_request": queries,
                },
            },
            "fixed_load": {
                "db": {
                    "statements": 100,
                    "queries": 80,
                    "requests": 500,
                    "statements_per_request": queries + 2,
                    "queries_per_request": queries,
                    "top_statements": [],
                },
                "cache": {"hits": 90, "misses": 10, "hit_ratio": 0.9, "commands": 200},
                "connections": {"mean": 5.0, "max": 8.0},
                "services_cpu_percent": {"mean": 100.0, "max": 150.0},
                "services_rss_bytes": {"mean": rss_mb * 2**20, "max": rss_mb * 2**20},
            },
            "memory": {
                "services": 4 if layout != "before" else 14,
                "service_processes": 5,
                "total_rss_bytes": int(rss_mb * 2**20),
                "total_pss_bytes": 0,
                "per_service": {},
            },
        },
        "warnings": [],
    }


def synthetic_result(
    run_id: str,
    runs: dict[str, list[dict[str, Any]]],
    *,
    ceiling: dict[str, Any] | None = None,
    only: list[str] | None = None,
) -> dict[str, Any]:
    from bench_harness.results import SCHEMA, SCHEMA_VERSION, finalise

    document = {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "run_id": run_id,
        "created_at": "2026-01-01T00:00:00+00:00",
        "finished_at": "2026-01-01T00:10:00+00:00",
        "command": ["bench_harness", "run"],
        "profile": {"name": "quick"},
        "scale": "default",
        "third_party_latency_ms": {"smtp": 150, "webhook": 200},
        "criteria": {"p95_ms": 200.0, "max_error_rate": 0.01, "max_dropped_ratio": 0.005},
        "mix": {"dashboard": 50, "me": 10},
        "only": only,
        "fixed_rate": 50,
        "fixed_rate_source": "before-sustainable",
        "environment": {
            "cpu_model": "Test CPU",
            "logical_cores": 2,
            "physical_cores": 1,
            "usable_cores": 2,
            "memory_bytes": 24 * 2**30,
            "os": "Linux",
            "kernel": "6",
            "python": "3.11.9",
            "python_implementation": "CPython",
            "packages": {"fastapi": "1"},
            "k6": "k6 v1.1.0",
            "git": {"sha": "abc", "dirty": False},
        },
        "layouts": runs,
        "ceiling": ceiling,
        "summary": {},
        "noise_floor": None,
        "errors": [],
    }
    return finalise(document)


def synthetic_ceiling(sustainable: float, peak: float) -> dict[str, Any]:
    """Return a `ceiling` section: FastAPI at these rates, raw ASGI at twice them."""

    def app(name: str, factor: float) -> dict[str, Any]:
        return {
            "app": f"bench_harness.ceiling_apps:{name}_app",
            "search": {
                "sustainable_rps": int(sustainable * factor),
                "lowest_failing_rps": int(sustainable * factor * 2),
                "converged": True,
                "steps": [],
            },
            "saturation": _phase("saturation", peak * factor, 4.0, raw=True),
            "server_cpu_s": 1.0,
            "server_cpu_ms_per_request": 0.5 / factor,
        }

    return {
        "runtime": {"command": "python -m gunicorn <app>", "workers": 2, "log_level": "warning"},
        "fastapi": app("fastapi", 1.0),
        "asgi": app("asgi", 2.0),
    }


@pytest.fixture
def make_ceiling() -> Any:
    return synthetic_ceiling


@pytest.fixture
def make_run() -> Any:
    return synthetic_run


@pytest.fixture
def make_result() -> Any:
    return synthetic_result
