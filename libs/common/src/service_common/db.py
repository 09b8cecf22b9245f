"""Async PostgreSQL through SQLAlchemy 2 + asyncpg: explicit pools, one session per request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool

from service_common import evidence
from service_common.settings import DatabaseSettings


def async_url(url: str) -> str:
    """Turn a plain `postgresql://` DSN into the asyncpg dialect URL SQLAlchemy expects."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    raise ValueError(f"not a PostgreSQL URL: {url.split('@')[-1]}")


def create_engine(
    url: str,
    *,
    pool_size: int,
    max_overflow: int,
    pool_timeout_s: float,
    pool_recycle_s: int,
    statement_timeout_ms: int,
    pgbouncer: bool = False,
    application_name: str = "service",
) -> AsyncEngine:
    """Create an engine whose pool is sized, pre-pinged and recycled, and that counts statements.

    With PgBouncer in transaction mode a server connection changes between transactions, so
    asyncpg's prepared-statement cache must be off and statements left unnamed.
    """
    connect_args: dict[str, Any] = {
        "server_settings": {
            "application_name": application_name,
            "statement_timeout": str(statement_timeout_ms),
        },
        "timeout": pool_timeout_s,
    }
    pool_args: dict[str, Any] = {
        "pool_size": pool_size,
        "max_overflow": max_overflow,
        "pool_timeout": pool_timeout_s,
        "pool_recycle": pool_recycle_s,
        "pool_pre_ping": True,
    }
    if pgbouncer:
        connect_args["statement_cache_size"] = 0
        connect_args["prepared_statement_name_func"] = lambda: ""
        # PgBouncer pools server connections itself; a second pool here would only hold them.
        pool_args = {"poolclass": NullPool}
    engine = create_async_engine(async_url(url), connect_args=connect_args, **pool_args)
    event.listen(engine.sync_engine, "before_cursor_execute", _count_statement)
    return engine


def engine_from_settings(
    settings: DatabaseSettings, *, application_name: str, read_replica: bool = False
) -> AsyncEngine:
    """Create the primary engine, or the read-replica one when asked and configured."""
    url = settings.read_url if read_replica and settings.read_url else settings.url
    return create_engine(
        url,
        pool_size=settings.pool_size,
        max_overflow=settings.max_overflow,
        pool_timeout_s=settings.pool_timeout_s,
        pool_recycle_s=settings.pool_recycle_s,
        statement_timeout_ms=settings.statement_timeout_ms,
        pgbouncer=settings.pgbouncer,
        application_name=application_name,
    )


def _count_statement(*_: Any, **__: Any) -> None:
    evidence.count_statement()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Build sessions that keep loaded values after commit (responses are built after it)."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


@asynccontextmanager
async def session_scope(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """Open a session that commits when the block succeeds and rolls back when it fails."""
    async with factory() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
