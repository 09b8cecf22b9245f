"""The three peer services, reached through the process's one shared HTTP client.

Calls go through `service_common.http.call`: a peer's 4xx is passed on with its status and code,
a 5xx becomes 502, a refused connection 503 and a timeout 504, all in the one error shape.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
from service_common.errors import BadGateway
from service_common.http import call

from core_api.settings import Settings

# Peers sit on the same host or LAN: gzip would cost CPU on both ends of the hop and save nothing.
PEER_HEADERS = {"accept-encoding": "identity"}


@dataclass(frozen=True, slots=True)
class Peer:
    name: str
    base_url: str
    timeout: httpx.Timeout


class Peers:
    """identity, user and jobs, each with its own time budget on one shared connection pool."""

    def __init__(self, client: httpx.AsyncClient, settings: Settings) -> None:
        self.client = client

        def peer(name: str, url: str, timeout_s: float) -> Peer:
            timeout = httpx.Timeout(timeout_s, connect=settings.connect_timeout_s)
            return Peer(name, url.rstrip("/"), timeout)

        self.identity = peer("identity", settings.identity_url, settings.identity_timeout_s)
        self.user = peer("user", settings.user_url, settings.user_timeout_s)
        self.jobs = peer("jobs", settings.jobs_url, settings.jobs_timeout_s)

    async def request(
        self,
        peer: Peer,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """Call a peer; return its 2xx/3xx response or raise the mapped error."""
        return await call(
            self.client,
            peer.name,
            method,
            peer.base_url + path,
            json=json,
            params=params,
            headers={**PEER_HEADERS, **(headers or {})},
            timeout=peer.timeout,
        )

    async def stream(self, peer: Peer, path: str) -> httpx.Response:
        """GET a body to relay as it arrives (close it with `relay`)."""
        return await call(
            self.client,
            peer.name,
            "GET",
            peer.base_url + path,
            headers=PEER_HEADERS,
            timeout=peer.timeout,
            stream=True,
        )


def read_json(peer: Peer, response: httpx.Response, *required: str) -> dict[str, Any]:
    """Parse a peer's JSON object, or raise 502 when it is not the agreed shape."""
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError as exc:
        raise BadGateway(f"{peer.name} sent a body that is not JSON") from exc
    if not isinstance(body, dict) or any(key not in body for key in required):
        raise BadGateway(f"{peer.name} sent an unexpected body")
    return body


async def concurrently(*calls: Awaitable[httpx.Response]) -> list[httpx.Response]:
    """Run independent peer calls at once; when one fails, cancel the rest and raise its error."""
    tasks = [asyncio.ensure_future(c) for c in calls]
    try:
        return await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        # Wait for them to wind down, as a TaskGroup would, so no call outlives the request.
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


async def relay(response: httpx.Response) -> AsyncIterator[bytes]:
    """Yield a streamed peer body chunk by chunk, and release its connection however it ends."""
    try:
        async for chunk in response.aiter_bytes():
            yield chunk
    finally:
        await response.aclose()
