"""httpx's client API on aiohttp's connection pool: the transport of every peer client.

httpx stays the interface (requests, responses, timeouts, `MockTransport` in tests); only the
pool underneath changes. httpcore's pool walks every pooled connection and polls its socket on
each request (encode/httpx#3215): py-spy put ~30% of core_api's CPU there on a proxied request
under load, against a few percent for aiohttp's connector. httpx-aiohttp packages the same idea,
but maps a refused connection to a timeout; here a refused connection is `ConnectError` (the
caller's 503) and only a timeout is a timeout (504), as with httpx's own transport.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import httpx

CHUNK_BYTES = 64 * 1024
# httpx's per-request headers that aiohttp computes itself from the body it sends.
_BODY_HEADERS = frozenset({"content-length", "transfer-encoding"})


class AiohttpTransport(httpx.AsyncBaseTransport):
    """Send httpx requests through one aiohttp session (opened in the running loop on first use)."""

    def __init__(self, *, max_connections: int, keepalive_expiry_s: float = 5.0) -> None:
        self._max_connections = max_connections
        self._keepalive_expiry_s = keepalive_expiry_s
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            limit=self._max_connections,
            keepalive_timeout=self._keepalive_expiry_s,
        )
        return aiohttp.ClientSession(
            connector=connector,
            auto_decompress=False,  # httpx decodes, as with its own transport
            cookie_jar=aiohttp.DummyCookieJar(),  # a service's calls carry no cookies
            skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding"),  # httpx set them
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._session is None:
            self._session = self._open()
        timeout = request.extensions.get("timeout", {})
        headers = [(k, v) for k, v in request.headers.multi_items() if k not in _BODY_HEADERS]
        with _mapped_errors(request):
            response = await self._session.request(
                request.method,
                str(request.url),
                headers=headers,
                data=request.content or None,
                allow_redirects=False,
                compress=None,
                timeout=aiohttp.ClientTimeout(
                    total=None,
                    connect=timeout.get("pool"),
                    sock_connect=timeout.get("connect"),
                    sock_read=timeout.get("read"),
                ),
            )
        return httpx.Response(
            status_code=response.status,
            headers=response.raw_headers,
            stream=_ResponseStream(response, request),
            request=request,
            extensions={"http_version": b"HTTP/1.1"},
        )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


class _ResponseStream(httpx.AsyncByteStream):
    def __init__(self, response: aiohttp.ClientResponse, request: httpx.Request) -> None:
        self._response = response
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _mapped_errors(self._request):
            async for chunk in self._response.content.iter_chunked(CHUNK_BYTES):
                yield chunk

    async def aclose(self) -> None:
        # Back to the pool when the body was read to the end; closed otherwise.
        self._response.release()


class _mapped_errors:  # noqa: N801 - used as a context manager, like httpx's own
    """Raise aiohttp's failures as the httpx exceptions `service_common.http.call` maps."""

    def __init__(self, request: httpx.Request) -> None:
        self._request = request

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, _: object
    ) -> None:
        if exc is None:
            return
        mapped = _httpx_error(exc)
        if mapped is not None:
            raise mapped(str(exc) or type(exc).__name__, request=self._request) from exc


def _httpx_error(exc: BaseException) -> type[httpx.TransportError] | None:
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout
    if isinstance(exc, (aiohttp.ServerTimeoutError, TimeoutError)):
        return httpx.ReadTimeout
    if isinstance(exc, aiohttp.ClientConnectorError):
        return httpx.ConnectError  # refused, unreachable, name not resolved
    if isinstance(exc, (aiohttp.ClientPayloadError, aiohttp.ServerDisconnectedError)):
        return httpx.RemoteProtocolError
    if isinstance(exc, (aiohttp.ClientOSError, aiohttp.ClientConnectionError)):
        return httpx.ReadError
    if isinstance(exc, aiohttp.ClientError):
        return httpx.RemoteProtocolError  # a malformed answer
    return None
