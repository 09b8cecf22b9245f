"""One shared httpx.AsyncClient per process, and calls to peer services that fail clearly.

A downstream failure becomes a 502/503/504 in the error shape, never a 500 with a trace; the
peer's evidence headers are folded into this request's evidence.
"""

from __future__ import annotations

from typing import Any

import httpx
import orjson

from service_common import evidence
from service_common.aiohttp_transport import AiohttpTransport
from service_common.errors import AppError, BadGateway, GatewayTimeout, ServiceUnavailable


def create_http_client(
    *,
    base_url: str = "",
    timeout_s: float = 3.0,
    connect_timeout_s: float = 1.0,
    max_connections: int = 200,
) -> httpx.AsyncClient:
    """Create a pooled client: connections are kept alive and reused across requests.

    The pool is aiohttp's (see `aiohttp_transport`): up to `max_connections`, idle ones kept
    for a few seconds. No proxy is taken from the environment: a service's calls go where they
    are addressed.
    """
    return httpx.AsyncClient(
        base_url=base_url,
        timeout=httpx.Timeout(timeout_s, connect=connect_timeout_s),
        transport=AiohttpTransport(max_connections=max_connections),
        trust_env=False,
    )


class PeerError(AppError):
    """A peer answered with a client error (4xx): passed on with the peer's status and code."""

    def __init__(self, status_code: int, code: str, detail: str, headers: dict[str, str]) -> None:
        super().__init__(detail, headers=headers)
        self.status_code = status_code  # type: ignore[misc]
        self.code = code  # type: ignore[misc]


_PASSED_HEADERS = ("retry-after", "ratelimit-limit", "ratelimit-remaining", "ratelimit-reset")


async def call(
    client: httpx.AsyncClient,
    peer: str,
    method: str,
    url: str,
    *,
    json: Any = None,
    params: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    timeout: httpx.Timeout | None = None,
    stream: bool = False,
) -> httpx.Response:
    """Call a peer; return its 2xx/3xx response, re-raise its 4xx, map the rest to 502/503/504.

    `timeout` is this peer's budget (the client's default otherwise). With `stream`, the body is
    left unread for the caller to relay, and closing the response is the caller's job.
    """
    content = orjson.dumps(json) if json is not None else None
    send_headers = {"content-type": "application/json"} if content is not None else {}
    send_headers.update(headers or {})
    request = client.build_request(
        method,
        url,
        content=content,
        params=params,
        headers=send_headers,
        timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
    )
    try:
        response = await client.send(request, stream=stream)
    except httpx.TimeoutException as exc:
        raise GatewayTimeout(f"{peer} did not answer in time") from exc
    except httpx.TransportError as exc:
        raise ServiceUnavailable(f"{peer} is unavailable") from exc
    current = evidence.current()
    if current is not None:
        current.add_downstream(response.headers)
    if response.status_code < 400:
        return response
    if stream:
        await response.aread()
        await response.aclose()
    if response.status_code < 500:
        code, detail = _error_of(response)
        passed = {k: v for k, v in response.headers.items() if k.lower() in _PASSED_HEADERS}
        raise PeerError(response.status_code, code, detail, passed)
    if response.status_code in (503, 504):
        # A shedding peer's Retry-After is the caller's best hint too.
        retry = {k: v for k, v in response.headers.items() if k.lower() == "retry-after"}
        raise ServiceUnavailable(f"{peer} is unavailable", headers=retry)
    raise BadGateway(f"{peer} failed ({response.status_code})")


def _error_of(response: httpx.Response) -> tuple[str, str]:
    try:
        body = response.json()
        return str(body["error"]), str(body["detail"])
    except (ValueError, KeyError, TypeError):
        return "error", response.text[:200]
