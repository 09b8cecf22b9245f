"""webhook service: POSTs a signed JSON body to a customer's URL, retrying a few times."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from typing import Any

import requests
from pydantic import BaseModel

from before_layout.errors import ApiError
from before_layout.settings import get_settings
from before_layout.web import create_service

app, db = create_service("webhook")
settings = get_settings()
log = logging.getLogger(__name__)

ATTEMPTS = 3
BACKOFF_S = (0.5, 1.0)


class Delivery(BaseModel):
    url: str
    body: dict[str, Any]


def signature(body: bytes) -> str:
    """Return the X-Signature value: sha256=<hex HMAC-SHA256 of the raw body>."""
    return "sha256=" + hmac.new(settings.webhook_secret.encode(), body, hashlib.sha256).hexdigest()


@app.post("/internal/deliver")
async def deliver(delivery: Delivery) -> dict[str, Any]:
    raw = json.dumps(delivery.body, separators=(",", ":"), sort_keys=True).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Signature": signature(raw),
        "Idempotency-Key": str(delivery.body.get("report_id", "")),
    }
    for attempt in range(1, ATTEMPTS + 1):
        try:
            # ANTI-PATTERN (fix 3: background work): the customer's endpoint is called, and
            # retried, while our user waits for their 202 (after: a Celery task with backoff).
            response = requests.post(delivery.url, data=raw, headers=headers, timeout=5)
            if response.status_code < 300:
                return {"status": "delivered", "attempts": attempt}
            log.warning("webhook %s answered %s", delivery.url, response.status_code)
        except requests.RequestException as exc:
            log.warning("webhook %s failed: %s", delivery.url, exc)
        if attempt < ATTEMPTS:
            # ANTI-PATTERN (fix 2: async stack): a blocking backoff that stalls the loop.
            time.sleep(BACKOFF_S[attempt - 1])
    raise ApiError(502, f"webhook delivery failed after {ATTEMPTS} attempts")
