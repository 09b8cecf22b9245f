"""Render the activity report PDF: a title page and a paged table of events.

Both layouts call this one renderer (the before layout inside the request, the after layout in a
Celery task), so the cost of a PDF is identical and only *where* the work happens differs.
The output is deterministic: the same inputs give the same bytes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from fpdf import FPDF

# A 90-day report of a very active user can hold thousands of events; the table shows the newest.
MAX_TABLE_ROWS = 500
_COLUMNS = (("When (UTC)", 38.0), ("Kind", 32.0), ("Actor", 40.0), ("Summary", 80.0))
_ROW_HEIGHT = 6.0
_SUMMARY_CHARS = 60


def _latin1(text: str) -> str:
    """Return text the PDF core fonts can draw (they cover Latin-1 only)."""
    return text.encode("latin-1", "replace").decode("latin-1")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def payload_summary(payload: Mapping[str, Any]) -> str:
    """Return a one-line summary of an event payload: its top-level scalar fields, sorted."""
    scalars = (
        f"{key}={value}"
        for key, value in sorted(payload.items())
        if isinstance(value, str | int | float | bool)
    )
    return _clip(", ".join(scalars), _SUMMARY_CHARS)


class _ReportPDF(FPDF):
    def __init__(self, title: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.report_title = title

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font("Helvetica", size=8)
        self.cell(0, 10, f"{self.report_title} - page {self.page_no()} of {{nb}}", align="C")


def _title_page(
    pdf: _ReportPDF, user: Mapping[str, Any], days: int, generated_at: datetime, total: int
) -> None:
    pdf.add_page()
    pdf.set_font("Helvetica", style="B", size=24)
    pdf.ln(50)
    pdf.cell(0, 14, "Activity report", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=13)
    lines = (
        _latin1(f"{user['display_name']} <{user['email']}>"),
        f"User id {user['id']}",
        f"The last {days} day{'s' if days != 1 else ''}: {total} event{'s' if total != 1 else ''}",
        f"Generated {generated_at.strftime('%Y-%m-%d %H:%M:%S UTC')}",
    )
    for line in lines:
        pdf.cell(0, 9, line, align="C", new_x="LMARGIN", new_y="NEXT")
    if total > MAX_TABLE_ROWS:
        pdf.cell(0, 9, f"The table lists the newest {MAX_TABLE_ROWS}.", align="C")


def _table_header(pdf: _ReportPDF) -> None:
    pdf.set_font("Helvetica", style="B", size=9)
    pdf.set_fill_color(225, 225, 225)
    for label, width in _COLUMNS:
        pdf.cell(width, _ROW_HEIGHT + 1, label, border=1, fill=True)
    pdf.ln()
    pdf.set_font("Helvetica", size=8)


def _event_cells(event: Mapping[str, Any]) -> tuple[str, ...]:
    created_at: datetime = event["created_at"]
    return (
        created_at.strftime("%Y-%m-%d %H:%M:%S"),
        _clip(str(event["kind"]), 22),
        _clip(_latin1(str(event.get("actor_name") or "unknown")), 26),
        _clip(_latin1(str(event.get("summary") or "")), _SUMMARY_CHARS),
    )


def render_activity_pdf(
    *,
    user: Mapping[str, Any],
    events: Sequence[Mapping[str, Any]],
    days: int,
    generated_at: datetime,
) -> bytes:
    """Render a user's activity of the last `days` days (events newest first) as PDF bytes."""
    pdf = _ReportPDF(title=f"Activity report for user {user['id']}")
    pdf.set_creation_date(generated_at)
    pdf.set_title("Activity report")
    pdf.set_author("reports@refactor-lab.test")
    pdf.set_auto_page_break(auto=True, margin=20)
    _title_page(pdf, user, days, generated_at, len(events))

    pdf.add_page()
    _table_header(pdf)
    if not events:
        pdf.cell(0, _ROW_HEIGHT, "No activity in this period.", new_x="LMARGIN", new_y="NEXT")
    for event in events[:MAX_TABLE_ROWS]:
        if pdf.will_page_break(_ROW_HEIGHT):
            pdf.add_page()
            _table_header(pdf)
        for text, (_, width) in zip(_event_cells(event), _COLUMNS, strict=True):
            pdf.cell(width, _ROW_HEIGHT, text, border=1)
        pdf.ln()
    return bytes(pdf.output())
