"""The two apps of the framework ceiling: the least a request can cost on this runtime.

`fastapi_app` is a minimal FastAPI app with one plain route returning a small JSON body;
`asgi_app` is a raw ASGI callable returning the very same bytes. Both run under the after
layout's runtime (gunicorn + uvicorn workers, `service_common.gunicorn_conf`), so a layout's
throughput as a fraction of the FastAPI app's is what its own work leaves of the framework's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import FastAPI

PATH = "/"
BODY = b'{"status":"ok","n":1}'  # what FastAPI's JSONResponse renders for the route below

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# As the services run in production: no OpenAPI schema or /docs.
fastapi_app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


@fastapi_app.get(PATH)
async def status() -> dict[str, Any]:
    """Return a small JSON body (a plain route: no model, no dependency)."""
    return {"status": "ok", "n": 1}


HEADERS = [
    (b"content-type", b"application/json"),
    (b"content-length", str(len(BODY)).encode()),
]
NOT_FOUND = b'{"detail":"Not Found"}'


async def asgi_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Answer GET / with BODY, anything else with 404; lifespan events are acknowledged."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    found = scope["path"] == PATH and scope["method"] in ("GET", "HEAD")
    body = BODY if found else NOT_FOUND
    headers = HEADERS if found else [(b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": 200 if found else 404, "headers": headers})
    await send({"type": "http.response.body", "body": body})
