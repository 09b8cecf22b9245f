"""Webhook receiver standing in for a customer's endpoint: checks HMAC, answers after a latency.

Run: python -m stack_launcher.webhook_receiver --port 8090 --latency-ms 200 --record hooks.jsonl \
        --secret S [--fail-first N]
POST /hooks/<anything> records the delivery; GET /received lists them; GET /healthz.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from stack_launcher.records import Record, append_record, utc_now

DEFAULT_PORT = 8090
DEFAULT_LATENCY_MS = 200
SIGNATURE_HEADER = "x-signature"
SECRET_ENV = "WEBHOOK_RECEIVER_SECRET"


def sign(secret: str, body: bytes) -> str:
    """Return the X-Signature header value for a body: sha256=<hex HMAC-SHA256>."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_valid(secret: str, body: bytes, header: str | None) -> bool:
    """Return whether the header carries the body's signature (constant-time comparison)."""
    return header is not None and hmac.compare_digest(sign(secret, body), header)


def _recorded_headers(request: Request) -> dict[str, str]:
    # Enough to debug a delivery without recording transport noise (host, content-length).
    return {
        name: value
        for name, value in request.headers.items()
        if name in ("content-type", "user-agent", "idempotency-key") or name.startswith("x-")
    }


def _parse_body(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return body.decode("utf-8", errors="replace")


def create_app(
    *, secret: str, latency_ms: int, record_path: Path, fail_first: int = 0
) -> Starlette:
    """Build the receiver app; the first `fail_first` deliveries per path answer 503."""
    received: list[Record] = []
    attempts: Counter[str] = Counter()

    async def receive_hook(request: Request) -> JSONResponse:
        body = await request.body()
        path = request.url.path
        # Counted before the wait, so concurrent retries of one path see distinct attempt numbers.
        attempts[path] += 1
        attempt = attempts[path]
        # Simulated third-party latency (DESIGN.md section 5): with the SMTP sink, the only
        # place where the project waits on purpose.
        await asyncio.sleep(latency_ms / 1000)
        status = 503 if attempt <= fail_first else 200
        record: Record = {
            "path": path,
            "headers": _recorded_headers(request),
            "body": _parse_body(body),
            "signature_valid": signature_valid(secret, body, request.headers.get(SIGNATURE_HEADER)),
            "attempt": attempt,
            "status": status,
            "received_at": utc_now(),
        }
        received.append(record)
        append_record(record_path, record)
        return JSONResponse({"accepted": status == 200}, status_code=status)

    async def list_received(request: Request) -> JSONResponse:
        return JSONResponse(received)

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[
            Route("/hooks/{rest:path}", receive_hook, methods=["POST"]),
            Route("/received", list_received, methods=["GET"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and serve until SIGTERM or SIGINT."""
    parser = argparse.ArgumentParser(prog="python -m stack_launcher.webhook_receiver")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--latency-ms", type=int, default=DEFAULT_LATENCY_MS)
    parser.add_argument("--record", type=Path, required=True, help="JSON-lines file to append to")
    parser.add_argument(
        "--secret",
        default=os.environ.get(SECRET_ENV),
        help=f"HMAC key (default: ${SECRET_ENV}, which keeps it out of the process list)",
    )
    parser.add_argument("--fail-first", type=int, default=0, help="answer 503 to N per path")
    args = parser.parse_args(argv)
    if not args.secret:
        parser.error(f"--secret or ${SECRET_ENV} is required")
    args.record.parent.mkdir(parents=True, exist_ok=True)
    args.record.touch()
    app = create_app(
        secret=args.secret,
        latency_ms=args.latency_ms,
        record_path=args.record,
        fail_first=args.fail_first,
    )
    uvicorn.run(app, host=args.host, port=args.port, lifespan="off", log_level="warning")


if __name__ == "__main__":
    main()
