"""Load shedding: past a cap of requests in flight, answer 503 + Retry-After at once.

Neither gunicorn's uvicorn worker nor uvicorn itself bounds the requests a worker takes on: under
an arrival rate above capacity every request is admitted, the event loop's queue grows without
bound, latency climbs for everyone and the clients' timeouts turn the backlog into wasted work.
A cap per worker process keeps the admitted requests fast and tells the rest, cheaply and in the
one error shape, to come back shortly. Probes and metrics are never shed: an orchestrator that
saw a busy worker as dead would restart it and make the overload worse.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge
from starlette.types import ASGIApp, Receive, Scope, Send

from service_common.errors import error_response

EXEMPT_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})

# Across workers (prometheus multiprocess mode), the sum over the live ones.
IN_FLIGHT = Gauge(
    "http_requests_in_flight",
    "Requests being served (by all live workers of the service)",
    multiprocess_mode="livesum",
)
SHED = Counter("http_requests_shed_total", "Requests refused with 503 because of the in-flight cap")


class LoadSheddingMiddleware:
    """Pure ASGI middleware: refuse a request with 503 when `max_in_flight` are being served."""

    def __init__(self, app: ASGIApp, *, max_in_flight: int, retry_after_s: int = 1) -> None:
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        self.app = app
        self.max_in_flight = max_in_flight
        self.retry_after = str(retry_after_s)
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.max_in_flight:
            SHED.inc()
            detail = "the server is at capacity; retry shortly"
            headers = {"Retry-After": self.retry_after}
            await error_response(503, "service_unavailable", detail, headers)(scope, receive, send)
            return
        # One event loop per process: the counter needs no lock.
        self.in_flight += 1
        IN_FLIGHT.inc()
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1
            IN_FLIGHT.dec()
