"""The jobs schema's revisions on a database of their own, with rows written before each upgrade."""

from __future__ import annotations

import asyncio
import secrets
from datetime import timedelta
from uuid import uuid4

import asyncpg  # type: ignore[import-untyped]
from service_common.migrations import downgrade, upgrade
from stack_launcher.infra import Infra

INSERT_REPORT = """
    INSERT INTO jobs.reports (id, user_id, kind, days, status, created_at, completed_at)
    VALUES ($1, 1, 'activity_pdf', 7, 'done', now() - $2::interval, now() - $2::interval)
"""
INSERT_DELIVERY = "INSERT INTO jobs.deliveries (report_id, channel, attempts) VALUES ($1, $2, $3)"


async def test_0002_gives_up_old_undelivered_rows_and_leaves_recent_ones_owed(
    infra: Infra,
) -> None:
    name = f"jobs_migrations_{secrets.token_hex(4)}"
    dsn = infra.create_database(name)
    await asyncio.to_thread(upgrade, "jobs_service", dsn, "jobs_0001")
    old, recent = uuid4(), uuid4()
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(INSERT_REPORT, old, timedelta(days=2))
        await connection.execute(INSERT_REPORT, recent, timedelta(minutes=1))
        # A webhook refused before the revision (attempted, never delivered), and an email sent.
        await connection.execute(INSERT_DELIVERY, old, "webhook", 1)
        await connection.execute(
            "INSERT INTO jobs.deliveries (report_id, channel, attempts, delivered_at) "
            "VALUES ($1, 'email', 1, now())",
            old,
        )
        await connection.execute(INSERT_DELIVERY, recent, "webhook", 0)

        await asyncio.to_thread(upgrade, "jobs_service", dsn)
        rows = await connection.fetch(
            "SELECT report_id, channel, given_up_at IS NOT NULL AS given_up, last_error, "
            "touched_at IS NOT NULL AS touched FROM jobs.deliveries"
        )
        ended = {(row["report_id"], row["channel"]): row for row in rows}

        assert ended[(old, "webhook")]["given_up"] is True
        assert (
            ended[(old, "webhook")]["last_error"] == "undelivered before jobs_0002, not sent again"
        )
        assert ended[(old, "email")]["given_up"] is False  # delivered: nothing to end
        assert ended[(recent, "webhook")]["given_up"] is False  # most likely in flight: still owed
        assert all(row["touched"] for row in rows)

        await asyncio.to_thread(downgrade, "jobs_service", dsn, "jobs_0001")
        columns = await connection.fetch(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = 'jobs' AND table_name = 'deliveries'"
        )
        assert {c["column_name"] for c in columns} == {
            "report_id",
            "channel",
            "attempts",
            "delivered_at",
        }
    finally:
        await connection.close()
        infra.drop_database(name)
