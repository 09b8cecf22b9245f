"""Shapes shared by every public route: the error body and the errors any route may answer."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ErrorRead(BaseModel):
    error: str
    detail: str


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Document error statuses in the one error shape (422 replaces FastAPI's own schema)."""
    return {status: {"model": ErrorRead} for status in statuses}


# What any route that reaches a peer may answer besides its own errors (413: the body cap).
PEER_ERRORS = errors(413, 422, 502, 503, 504)
AUTHENTICATED_ERRORS = {**errors(401), **PEER_ERRORS}
