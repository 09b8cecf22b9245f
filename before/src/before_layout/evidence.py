"""Per-request evidence: DB statements run and internal hops made, downstream included.

A context variable holds the counters of the request being served. The database helper counts
each statement it sends, the peer helper folds in what the called service reported, and the
middleware writes the totals as X-Evidence-* headers on every response.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

DB_STATEMENTS = "x-evidence-db-statements"
HOPS = "x-evidence-hops"
HOP_DEPTH = "x-evidence-hop-depth"


@dataclass
class Evidence:
    db_statements: int = 0
    hops: int = 0
    hop_depth: int = 0


_current: ContextVar[Evidence | None] = ContextVar("before_evidence", default=None)


def count_statement() -> None:
    """Add one DB statement to the current request."""
    evidence = _current.get()
    if evidence is not None:
        evidence.db_statements += 1


def count_hop(downstream_headers: Mapping[str, str]) -> None:
    """Add one internal HTTP call and whatever the called service did on its side."""
    evidence = _current.get()
    if evidence is None:
        return
    evidence.hops += 1 + int(downstream_headers.get(HOPS, 0))
    evidence.db_statements += int(downstream_headers.get(DB_STATEMENTS, 0))
    evidence.hop_depth = max(evidence.hop_depth, 1 + int(downstream_headers.get(HOP_DEPTH, 0)))


class EvidenceMiddleware:
    """Open fresh counters per request and report them in the response headers."""

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
                message["headers"] = [
                    *message.get("headers", []),
                    (DB_STATEMENTS.encode(), str(evidence.db_statements).encode()),
                    (HOPS.encode(), str(evidence.hops).encode()),
                    (HOP_DEPTH.encode(), str(evidence.hop_depth).encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_evidence)
        finally:
            _current.reset(token)
