"""The read path at scale: a read-replica engine and PgBouncer's transaction mode.

A real replica needs replication set up; what the library promises is narrower and testable on
one server: read sessions go to `read_url` and writes to `url`, and the PgBouncer settings
(no prepared-statement cache, unnamed statements, no client-side pool) still run queries.
"""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from service_common.app import create_app
from service_common.db import create_engine
from service_common.resources import open_database
from service_common.settings import DatabaseSettings, ServiceSettings
from sqlalchemy import text
from sqlalchemy.pool import NullPool
from stack_launcher.infra import Infra


async def test_read_sessions_use_the_replica_url_and_writes_the_primary(infra: Infra) -> None:
    primary = infra.create_database("read_path_primary")
    replica = infra.create_database("read_path_replica")
    settings = DatabaseSettings(url=primary, read_url=replica, pool_size=1, max_overflow=0)
    async with open_database(settings, name="t") as db:
        assert db.read_engine is not db.engine
        async with db.sessions() as session:
            assert await session.scalar(text("SELECT current_database()")) == "read_path_primary"
        async with db.read_sessions() as session:
            assert await session.scalar(text("SELECT current_database()")) == "read_path_replica"


async def test_without_a_replica_reads_share_the_primary_pool(infra: Infra) -> None:
    settings = DatabaseSettings(url=infra.create_database("read_path_single"), pool_size=1)
    async with open_database(settings, name="t") as db:
        assert db.read_engine is db.engine


async def test_pgbouncer_mode_runs_without_prepared_statement_cache_or_pool(infra: Infra) -> None:
    engine = create_engine(
        infra.create_database("read_path_bouncer"),
        pool_size=5,
        max_overflow=0,
        pool_timeout_s=5,
        pool_recycle_s=60,
        statement_timeout_ms=5000,
        pgbouncer=True,
    )
    assert isinstance(engine.pool, NullPool)
    for value in (1, 2):  # the same statement twice: a named prepared statement would clash
        async with engine.connect() as connection:
            assert await connection.scalar(text("SELECT CAST(:v AS int)"), {"v": value}) == value
    await engine.dispose()


async def test_profiling_hook_answers_with_a_profile_in_development_only() -> None:
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(_: FastAPI):  # type: ignore[no-untyped-def]
        yield {}

    app = create_app(
        name="p", settings=ServiceSettings(profiling=True), lifespan=lifespan, routers=[]
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        profiled = await client.get("/healthz?profile=1")
        assert profiled.headers["content-type"].startswith("text/html")
        assert "pyinstrument" in profiled.text.lower()
        plain = await client.get("/healthz")
        assert plain.json() == {"status": "ok"}
