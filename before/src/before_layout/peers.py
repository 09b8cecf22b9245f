"""Calls from one service to another: plain `requests`, one new connection per call."""

from __future__ import annotations

from typing import Any

import requests

from before_layout import evidence
from before_layout.errors import ApiError
from before_layout.settings import get_settings

_PASSED_ON = ("retry-after",)


def call(
    method: str,
    service: str,
    path: str,
    *,
    json: Any = None,
    params: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> requests.Response:
    """Call a peer service; an error answer is raised again here as the same ApiError."""
    settings = get_settings()
    url = settings.url(service) + path
    try:
        # ANTI-PATTERN (fix 2: async stack): a blocking `requests` call inside `async def`, and
        # no Session, so every hop opens a new TCP connection (after: one pooled httpx client).
        response = requests.request(
            method, url, json=json, params=params, headers=headers,
            timeout=settings.peer_timeout_s,
        )
    except requests.Timeout as exc:
        raise ApiError(504, f"{service} service did not answer in time") from exc
    except requests.RequestException as exc:
        raise ApiError(502, f"{service} service is unreachable") from exc
    evidence.count_hop(response.headers)
    if response.status_code >= 400:
        raise _as_error(service, response)
    return response


def bearer(authorization: str | None) -> dict[str, str]:
    """Return headers that pass the caller's Authorization on to the next service."""
    return {"Authorization": authorization} if authorization else {}


def _as_error(service: str, response: requests.Response) -> ApiError:
    try:
        body = response.json()
    except ValueError:
        body = None
    headers = {k: v for k, v in response.headers.items() if k.lower() in _PASSED_ON}
    if isinstance(body, dict) and "error" in body and "detail" in body:
        return ApiError(
            response.status_code, str(body["detail"]), code=str(body["error"]), headers=headers
        )
    return ApiError(502, f"{service} service answered {response.status_code}")
