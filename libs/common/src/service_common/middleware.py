"""Pure ASGI middleware for the edges of every service: body size limit and dev profiling."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service_common.errors import error_response


class BodySizeLimitMiddleware:
    """Refuse request bodies over `max_bytes` with 413, by header or while streaming."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
        received = 0
        too_large = False
        started = False

        async def limited_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    too_large = True
                    raise _TooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            # FastAPI turns any error while reading the body into its own 400; once the cap was
            # crossed, whatever the app answers is replaced by the 413 below.
            if too_large:
                return
            started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except _TooLarge:
            pass
        if too_large and not started:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        detail = f"request body over {self.max_bytes} bytes"
        await error_response(413, "payload_too_large", detail)(scope, receive, send)


class _TooLarge(Exception):
    pass


class ProfilingMiddleware:
    """Development only: `?profile=1` answers with pyinstrument's HTML profile of the request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or b"profile=1" not in scope.get("query_string", b""):
            await self.app(scope, receive, send)
            return
        from pyinstrument import Profiler
        from starlette.responses import HTMLResponse

        profiler = Profiler(async_mode="enabled")
        profiler.start()

        async def discard(_: Message) -> None:
            return None

        await self.app(scope, receive, discard)
        profiler.stop()
        await HTMLResponse(profiler.output_html())(scope, receive, send)
