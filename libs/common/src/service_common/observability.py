"""Prometheus metrics per route, a Server-Timing header, JSON logs and an event-loop-lag monitor."""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from contextlib import suppress

import orjson
from prometheus_client import Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUESTS = Counter("http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.35, 0.5, 1, 2.5, 5, 10),
)
LOOP_LAG = Gauge("event_loop_lag_seconds", "How late the event loop ran a timer, last sample")


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
