"""One error model: domain errors carry their status; one handler renders `{error, detail}`."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, ClassVar

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

log = logging.getLogger(__name__)

# Seconds a client is asked to wait when a dependency (the database) is briefly away.
RETRY_AFTER_UNAVAILABLE_S = "2"


class AppError(Exception):
    """Base of every error a service raises on purpose."""

    status_code: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"

    def __init__(self, detail: str, *, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = dict(headers or {})


class BadRequest(AppError):
    status_code = 400
    code = "bad_request"


class Unauthorized(AppError):
    status_code = 401
    code = "unauthorized"


class Forbidden(AppError):
    status_code = 403
    code = "forbidden"


class NotFound(AppError):
    status_code = 404
    code = "not_found"


class Conflict(AppError):
    status_code = 409
    code = "conflict"


class PayloadTooLarge(AppError):
    status_code = 413
    code = "payload_too_large"


class Unprocessable(AppError):
    status_code = 422
    code = "validation_error"


class RateLimited(AppError):
    status_code = 429
    code = "rate_limited"


class BadGateway(AppError):
    status_code = 502
    code = "bad_gateway"


class ServiceUnavailable(AppError):
    status_code = 503
    code = "service_unavailable"


class GatewayTimeout(AppError):
    status_code = 504
    code = "gateway_timeout"


_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
}


def error_response(
    status_code: int, code: str, detail: str, headers: Mapping[str, str] | None = None
) -> Response:
    """Render the one error shape."""
    body = orjson.dumps({"error": code, "detail": detail})
    return Response(body, status_code, headers=headers, media_type="application/json")


def _describe(errors: list[Any]) -> str:
    parts = []
    for error in errors[:5]:
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "body")
        parts.append(f"{where or 'body'}: {error.get('msg', 'invalid')}")
    return "; ".join(parts)


def install_error_handlers(app: FastAPI) -> None:
    """Render AppError, validation errors and framework HTTP errors in the one shape."""

    async def on_app_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, AppError)
        return error_response(exc.status_code, exc.code, exc.detail, exc.headers)

    async def on_validation(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return error_response(422, "validation_error", _describe(list(exc.errors())))

    async def on_http(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        code = _STATUS_CODES.get(exc.status_code, "error")
        return error_response(exc.status_code, code, str(exc.detail), exc.headers)

    async def on_unavailable(_: Request, exc: Exception) -> Response:
        # The database refused or dropped the connection (a restart, a failover) or the pool had
        # none free in time: a retryable 503, not a 500 that reads as a bug.
        if isinstance(exc, sa_exc.DBAPIError) and not _is_disconnect(exc):
            raise exc
        log.warning("dependency unavailable", extra={"error": repr(exc)[:300]})
        return error_response(
            503,
            "service_unavailable",
            "a dependency is unavailable, retry shortly",
            {"Retry-After": RETRY_AFTER_UNAVAILABLE_S},
        )

    app.add_exception_handler(AppError, on_app_error)
    for unavailable in (OSError, sa_exc.TimeoutError, sa_exc.DBAPIError):
        app.add_exception_handler(unavailable, on_unavailable)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)


# SQLSTATE classes that say "the server is away", not "the statement is wrong": 08 connection
# exception, 53 insufficient resources (too many connections), 57 operator intervention (a
# shutdown, "the database system is starting up").
_UNAVAILABLE_SQLSTATE_CLASSES = ("08", "53", "57")


def _is_disconnect(exc: sa_exc.DBAPIError) -> bool:
    """Tell a lost or refused connection from an error of the statement itself."""
    if exc.connection_invalidated or isinstance(
        exc, sa_exc.OperationalError | sa_exc.InterfaceError
    ):
        return True
    sqlstate = getattr(exc.orig, "sqlstate", None) or ""
    return sqlstate[:2] in _UNAVAILABLE_SQLSTATE_CLASSES
