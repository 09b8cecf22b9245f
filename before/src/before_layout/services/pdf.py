"""pdf service: renders the activity report with the same renderer as the after layout."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from jobs_service.pdf import render_activity_pdf
from pydantic import BaseModel
from starlette.responses import Response

from before_layout.web import create_service

app, db = create_service("pdf")


class RenderRequest(BaseModel):
    user: dict[str, Any]
    events: list[dict[str, Any]]
    days: int
    generated_at: datetime


@app.post("/internal/render")
async def render(body: RenderRequest) -> Response:
    events = [
        {**event, "created_at": datetime.fromisoformat(event["created_at"])}
        for event in body.events
    ]
    # The same renderer the after layout's Celery worker calls: only WHERE the work happens
    # differs between the layouts, not how much of it there is.
    # ANTI-PATTERN (fix 3: background work): CPU-bound rendering on the event loop, inside the
    # user's request (after: a Celery task).
    pdf = render_activity_pdf(
        user=body.user, events=events, days=body.days, generated_at=body.generated_at
    )
    return Response(pdf, media_type="application/pdf")
