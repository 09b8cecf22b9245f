"""Load shedding: the in-flight cap answers 503 + Retry-After, spares probes, and lets go again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel
from service_common.middleware import BodySizeLimitMiddleware
from service_common.shedding import LoadSheddingMiddleware
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


def held_app(release: asyncio.Event, entered: asyncio.Semaphore) -> Starlette:
    async def slow(_: Request) -> JSONResponse:
        entered.release()
        await release.wait()
        return JSONResponse({"ok": True})

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return Starlette(routes=[Route("/slow", slow), Route("/healthz", healthz)])


async def test_requests_over_the_cap_are_shed_with_retry_after_until_one_finishes() -> None:
    release, entered = asyncio.Event(), asyncio.Semaphore(0)
    app = LoadSheddingMiddleware(held_app(release, entered), max_in_flight=2, retry_after_s=3)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        held = [asyncio.create_task(client.get("/slow")) for _ in range(2)]
        for _ in held:
            await asyncio.wait_for(entered.acquire(), timeout=5)

        shed = await client.get("/slow")
        probe = await client.get("/healthz")
        release.set()
        finished = await asyncio.gather(*held)
        after = await client.get("/slow")

    assert shed.status_code == 503
    assert shed.json() == {
        "error": "service_unavailable",
        "detail": "the server is at capacity; retry shortly",
    }
    assert shed.headers["retry-after"] == "3"
    assert probe.status_code == 200, "probes are never shed"
    assert [r.status_code for r in finished] == [200, 200]
    assert after.status_code == 200
    assert app.in_flight == 0


async def test_a_failing_request_frees_its_slot() -> None:
    async def boom(_: Request) -> JSONResponse:
        raise RuntimeError("boom")

    app = LoadSheddingMiddleware(Starlette(routes=[Route("/", boom)]), max_in_flight=1)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        for _ in range(3):
            assert (await client.get("/")).status_code == 500
    assert app.in_flight == 0


def test_a_cap_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        LoadSheddingMiddleware(Starlette(), max_in_flight=0)


class Note(BaseModel):
    text: str


notes_api = FastAPI()


@notes_api.post("/notes")
async def create_note(note: Note) -> Note:
    return note


async def test_a_streamed_body_over_the_cap_is_413_even_through_fastapis_parser() -> None:
    # FastAPI answers 400 for any error while it reads a body; the cap must still say 413.
    app = BodySizeLimitMiddleware(notes_api, max_bytes=1024)

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(4):
            yield b"x" * 512

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post(
            "/notes", content=chunks(), headers={"Content-Type": "application/json"}
        )
        small = await client.post("/notes", json={"text": "hi"})
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"
    assert small.status_code == 200
