"""The peer client's aiohttp transport against real sockets: answers, reuse, failures mapped.

A tiny asyncio server plays the peer, so every case is what a real one can do: answer, refuse
the connection, never answer, hang up half way through a body.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpx
import pytest
from service_common import evidence
from service_common.aiohttp_transport import AiohttpTransport
from service_common.errors import GatewayTimeout, ServiceUnavailable
from service_common.http import PeerError, call, create_http_client

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def peer(handler: Handler) -> AsyncIterator[tuple[str, list[tuple[str, int]]]]:
    """Serve `handler` on a free port; yield its base URL and the client addresses it saw."""
    clients: list[tuple[str, int]] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        clients.append(writer.get_extra_info("peername"))
        try:
            await handler(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", clients
    finally:
        server.close()
        await server.wait_closed()


def answer(status: int, body: bytes, headers: dict[str, str] | None = None) -> Handler:
    """Answer every request of a kept-alive connection with the same response."""
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    head = f"HTTP/1.1 {status} X\r\ncontent-length: {len(body)}\r\n{extra}\r\n".encode()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            request = await reader.readuntil(b"\r\n\r\n")
            length = next(
                (int(line.split(b":")[1]) for line in request.lower().split(b"\r\n")
                 if line.startswith(b"content-length:")),
                0,
            )  # fmt: skip
            await reader.readexactly(length)
            writer.write(head + body)
            await writer.drain()

    return handler


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_answers_come_back_and_the_connection_is_reused() -> None:
    headers = {"content-type": "application/json", evidence.HOPS: "1"}
    async with peer(answer(200, b'{"ok":true}', headers)) as (url, clients):
        async with create_http_client(base_url=url) as client:
            assert isinstance(client._transport, AiohttpTransport)
            first = await call(client, "peer", "POST", "/x", json={"a": 1})
            second = await call(client, "peer", "GET", "/y", params={"q": "1"})
    assert first.json() == {"ok": True} and second.status_code == 200
    assert first.headers["content-type"] == "application/json"
    assert len(clients) == 1, "both requests went over one kept-alive connection"


async def test_a_peers_client_error_passes_through() -> None:
    body = b'{"error":"not_found","detail":"no such user"}'
    async with peer(answer(404, body)) as (url, _):
        async with create_http_client(base_url=url) as client:
            with pytest.raises(PeerError) as raised:
                await call(client, "peer", "GET", "/x")
    assert (raised.value.status_code, raised.value.code) == (404, "not_found")


async def test_a_refused_connection_is_503() -> None:
    async with create_http_client(base_url=f"http://127.0.0.1:{closed_port()}") as client:
        with pytest.raises(ServiceUnavailable):
            await call(client, "peer", "GET", "/x")


async def test_a_peer_that_never_answers_is_504_after_its_budget() -> None:
    async def silent(reader: asyncio.StreamReader, _: asyncio.StreamWriter) -> None:
        await reader.read()  # until the client gives up and closes

    async with peer(silent) as (url, _):
        async with create_http_client(base_url=url) as client:
            with pytest.raises(GatewayTimeout):
                await call(client, "peer", "GET", "/x", timeout=httpx.Timeout(0.2))


async def test_a_peer_that_hangs_up_mid_body_is_503() -> None:
    async def cut(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly part")
        await writer.drain()

    async with peer(cut) as (url, _):
        async with create_http_client(base_url=url) as client:
            with pytest.raises(ServiceUnavailable):
                await call(client, "peer", "GET", "/x")


async def test_a_streamed_body_is_relayed_and_its_connection_reused() -> None:
    body = b"%PDF-1.7 " + b"x" * 200_000
    async with peer(answer(200, body)) as (url, clients):
        async with create_http_client(base_url=url) as client:
            streamed = await call(client, "peer", "GET", "/file", stream=True)
            received = b"".join([chunk async for chunk in streamed.aiter_bytes()])
            await streamed.aclose()
            await call(client, "peer", "GET", "/again")
    assert received == body
    assert len(clients) == 1
