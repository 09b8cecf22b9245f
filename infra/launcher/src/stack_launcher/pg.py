"""PostgreSQL administration over plain DSNs: create and drop databases, run a query."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg  # type: ignore[import-untyped]

T = TypeVar("T")

_DATABASE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def plain_dsn(url: str) -> str:
    """Return the URL with a bare postgresql:// scheme (no SQLAlchemy driver suffix)."""
    parts = urlsplit(url)
    if not parts.scheme.startswith("postgres"):
        raise ValueError(f"not a PostgreSQL URL: {url!r}")
    return urlunsplit(parts._replace(scheme="postgresql"))


def dsn_for_database(dsn: str, database: str) -> str:
    """Return the same server's DSN pointed at another database."""
    return urlunsplit(urlsplit(dsn)._replace(path=f"/{database}"))


def check_database_name(name: str) -> str:
    """Return the name when it is a safe, unquoted PostgreSQL identifier, else raise."""
    if not _DATABASE_NAME.match(name):
        raise ValueError(f"invalid database name {name!r}: use lowercase letters, digits and _")
    return name


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from sync code, even when an event loop is running."""
    # A private thread gets its own event loop, so this also works inside async tests.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="pg-admin") as pool:
        return pool.submit(asyncio.run, coro).result()


async def _execute(dsn: str, statements: tuple[str, ...]) -> None:
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


async def _fetchval(dsn: str, query: str) -> Any:
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        return await conn.fetchval(query)
    finally:
        await conn.close()


def execute(dsn: str, *statements: str) -> None:
    """Run statements one by one on a fresh connection."""
    run_sync(_execute(dsn, statements))


def fetchval(dsn: str, query: str) -> Any:
    """Return the first column of the first row of a query."""
    return run_sync(_fetchval(dsn, query))


def create_database(admin_dsn: str, name: str) -> str:
    """Create an empty database (dropping any old one) with pg_stat_statements; return its DSN."""
    check_database_name(name)
    execute(admin_dsn, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", f"CREATE DATABASE {name}")
    dsn = dsn_for_database(admin_dsn, name)
    execute(dsn, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    return dsn


def drop_database(admin_dsn: str, name: str) -> None:
    """Drop a database, ending its open connections."""
    check_database_name(name)
    execute(admin_dsn, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def wait_until_accepting(dsn: str, timeout: float = 30.0) -> None:
    """Block until the server runs queries (not just accepts TCP while starting up)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            fetchval(dsn, "SELECT 1")
            return
        except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
            if time.monotonic() > deadline:
                raise TimeoutError(f"PostgreSQL at {dsn} not ready after {timeout:.0f} s") from exc
            time.sleep(0.1)
