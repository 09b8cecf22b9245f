"""Per-request evidence: DB statements run and internal hops made, downstream included.

Counters live in a context variable set by `EvidenceMiddleware`, so code deep in a repository or
HTTP client can add to them without being handed a request. The totals go out as headers; the
benchmark reads PostgreSQL's own statistics as the ground truth and uses these for detail.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

DB_STATEMENTS = "x-evidence-db-statements"
HOPS = "x-evidence-hops"
HOP_DEPTH = "x-evidence-hop-depth"


@dataclass(slots=True)
class Evidence:
    db_statements: int = 0
    hops: int = 0
    hop_depth: int = 0

    def add_statement(self) -> None:
        self.db_statements += 1

    def add_downstream(self, headers: dict[str, str] | object) -> None:
        """Count one hop and fold in what the downstream service reported."""
        get = getattr(headers, "get")  # noqa: B009 - works for dict and httpx.Headers alike
        self.hops += 1 + int(get(HOPS, 0))
        self.db_statements += int(get(DB_STATEMENTS, 0))
        self.hop_depth = max(self.hop_depth, 1 + int(get(HOP_DEPTH, 0)))


_current: ContextVar[Evidence | None] = ContextVar("evidence", default=None)


def current() -> Evidence | None:
    """Return the evidence of the request being served, if any."""
    return _current.get()


def count_statement() -> None:
    """Add one DB statement to the current request's evidence."""
    evidence = _current.get()
    if evidence is not None:
        evidence.add_statement()


class EvidenceMiddleware:
    """Pure ASGI middleware: open a fresh counter per request, report it in response headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        evidence = Evidence()
        token = _current.set(evidence)

        async def send_with_evidence(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (DB_STATEMENTS.encode(), str(evidence.db_statements).encode()),
                    (HOPS.encode(), str(evidence.hops).encode()),
                    (HOP_DEPTH.encode(), str(evidence.hop_depth).encode()),
                ]
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_evidence)
        finally:
            _current.reset(token)
