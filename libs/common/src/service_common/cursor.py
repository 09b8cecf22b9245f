"""Opaque keyset-pagination cursors: the position of the last row seen, not an offset."""

from __future__ import annotations

import base64
from datetime import datetime

import orjson

from service_common.errors import Unprocessable


def encode_cursor(created_at: datetime, row_id: int) -> str:
    """Encode the (created_at, id) of the last item of a page."""
    raw = orjson.dumps([created_at.isoformat(), row_id])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """Decode a cursor made by `encode_cursor`, or raise a 422."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created_at, row_id = orjson.loads(base64.urlsafe_b64decode(padded))
        return datetime.fromisoformat(created_at), int(row_id)
    except (ValueError, TypeError, orjson.JSONDecodeError) as exc:
        raise Unprocessable("invalid cursor") from exc
