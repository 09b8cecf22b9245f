"""The owners' cached views that core_api reads before it asks the owners (service_common.views).

A warm /me, public profile or dashboard is then one Redis round trip and no hop; a miss goes to
the owner, which renders the view and caches it for the next reader.
"""

from __future__ import annotations

from typing import Any

import orjson
from service_common.views import DASHBOARD, ME, PUBLIC, REPORTS_SUMMARY, View, ViewReader

from core_api.settings import ViewSettings


class UserViews:
    """One user's views at the user and jobs services, and the reader that fetches them."""

    def __init__(self, reader: ViewReader, settings: ViewSettings) -> None:
        self._reader = reader
        self.me = View(settings.user_prefix, ME)
        self.public = View(settings.user_prefix, PUBLIC)
        self.activity = View(settings.user_prefix, DASHBOARD)
        self.reports = View(settings.jobs_prefix, REPORTS_SUMMARY)

    async def read(self, user_id: int, *views: View) -> list[bytes | None]:
        """Return each view's JSON bytes for one user, None where it is not cached."""
        return await self._reader.read(user_id, *views)


def parse_object(raw: bytes | None, *required: str) -> dict[str, Any] | None:
    """Parse a cached view that must be a JSON object with `required` keys; None if it is not.

    An entry of another shape (an owner's older release during a rolling update) is a miss: the
    owner is asked and caches its current shape.
    """
    if raw is None:
        return None
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(value, dict) or any(key not in value for key in required):
        return None
    return value
