"""Signed, expiring download links: the URL itself is the permission, so it names nothing guessable.

signature = HMAC-SHA256(key, "<report id>:<user id>:<expires>"): changing the report, the owner or
the expiry (to extend a link) breaks it, and only core_api holds the key.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from urllib.parse import urlencode

FILES_PATH = "/v1/files/reports/{report_id}"


def sign(*, key: bytes, report_id: uuid.UUID, user_id: int, expires: int) -> str:
    """Return the hex HMAC of one report, owner and expiry."""
    message = f"{report_id}:{user_id}:{expires}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def download_url(*, key: bytes, report_id: uuid.UUID, user_id: int, ttl_s: int) -> str:
    """Return the path and query of a link to one report's file, valid for `ttl_s` seconds."""
    expires = int(time.time()) + ttl_s
    signature = sign(key=key, report_id=report_id, user_id=user_id, expires=expires)
    # The owner's id travels in the link because the file lives under it at jobs; the signature
    # covers it, so it cannot be swapped for another user's.
    query = urlencode({"user_id": user_id, "expires": expires, "signature": signature})
    return f"{FILES_PATH.format(report_id=report_id)}?{query}"


def is_valid(
    *, key: bytes, report_id: uuid.UUID, user_id: int, expires: int, signature: str
) -> bool:
    """Tell whether a link was signed by us for this report and owner and has not expired."""
    expected = sign(key=key, report_id=report_id, user_id=user_id, expires=expires)
    # Compared as bytes in constant time: str arguments must be ASCII, and a link is user input.
    authentic = hmac.compare_digest(expected.encode(), signature.encode())
    return authentic and expires >= int(time.time())
