"""The activity feed (keyset pagination) and the dashboard built from the same data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from .conftest import Account, assert_error, parse_time

pytestmark = pytest.mark.slow


def _page(client: httpx.Client, account: Account, **params: Any) -> dict[str, Any]:
    response = client.get("/v1/me/events", params=params, headers=account.headers)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    assert set(page) == {"items", "next_cursor"}
    return page


def test_feed_pages_do_not_overlap_and_run_newest_first(
    client: httpx.Client, heavy_user: Account
) -> None:
    seen: list[dict[str, Any]] = []
    cursor = None
    for _ in range(4):
        params: dict[str, Any] = {"limit": 25}
        if cursor is not None:
            params["cursor"] = cursor
        page = _page(client, heavy_user, **params)
        assert len(page["items"]) <= 25
        seen.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert len(page["items"]) == 25, "only the last page may be short"
    assert len(seen) >= 50, "the busiest seeded user has a long feed"
    ids = [item["id"] for item in seen]
    assert len(ids) == len(set(ids)), "pages overlap"
    keys = [(parse_time(item["created_at"]), item["id"]) for item in seen]
    assert keys == sorted(keys, reverse=True), "not newest first"
    for item in seen:
        assert {"id", "kind", "created_at", "actor", "payload"} <= set(item)
        assert set(item["actor"]) >= {"id", "display_name"}
        assert isinstance(item["actor"]["id"], int) and item["actor"]["display_name"]


def test_feed_default_page_and_limits(client: httpx.Client, heavy_user: Account) -> None:
    assert len(_page(client, heavy_user)["items"]) == 20
    assert len(_page(client, heavy_user, limit=1)["items"]) == 1
    assert len(_page(client, heavy_user, limit=100)["items"]) == 100
    for bad in (0, -1, "many"):
        response = client.get("/v1/me/events", params={"limit": bad}, headers=heavy_user.headers)
        assert_error(response, 422, "validation_error")
    # Above the cap: refused, or answered with at most 100 items.
    response = client.get("/v1/me/events", params={"limit": 1000}, headers=heavy_user.headers)
    if response.status_code == 200:
        assert len(response.json()["items"]) <= 100
    else:
        assert_error(response, 422, "validation_error")


def test_feed_rejects_a_forged_cursor(client: httpx.Client, heavy_user: Account) -> None:
    response = client.get(
        "/v1/me/events", params={"cursor": "!!not-a-cursor!!"}, headers=heavy_user.headers
    )
    assert_error(response, 422, "validation_error")


def test_dashboard_is_consistent_with_me_events_and_reports(
    client: httpx.Client, heavy_user: Account
) -> None:
    response = client.get("/v1/me/dashboard", headers=heavy_user.headers)
    assert response.status_code == 200, response.text
    board = response.json()
    assert set(board) == {"user", "recent_events", "stats", "recent_reports"}

    me = client.get("/v1/me", headers=heavy_user.headers).json()
    for key in ("id", "email", "display_name", "created_at"):
        assert board["user"][key] == me[key]

    feed = _page(client, heavy_user, limit=10)["items"]
    assert len(board["recent_events"]) == 10
    assert [e["id"] for e in board["recent_events"]] == [e["id"] for e in feed]
    for mini, full in zip(board["recent_events"], feed, strict=True):
        assert "payload" not in mini, "dashboard events carry no payload"
        assert mini["kind"] == full["kind"] and mini["actor"]["id"] == full["actor"]["id"]

    stats = board["stats"]
    assert set(stats) == {"events_7d", "reports_total", "reports_pending"}
    week_ago = datetime.now(UTC) - timedelta(days=7)
    recent_in_week = sum(parse_time(e["created_at"]) > week_ago for e in feed)
    assert stats["events_7d"] >= recent_in_week

    reports = client.get("/v1/reports", headers=heavy_user.headers).json()["items"]
    assert stats["reports_total"] == len(reports)
    assert stats["reports_pending"] == sum(r["status"] in {"queued", "running"} for r in reports)
    assert [r["id"] for r in board["recent_reports"]] == [r["id"] for r in reports[:5]]
