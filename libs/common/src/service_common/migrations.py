"""Alembic wiring shared by every service: each owns one PostgreSQL schema and its history.

A service's `migrations/env.py` is two lines that call `run_env(SCHEMA)`; `upgrade()` runs a
service's revisions programmatically (the launcher, the tests and the k8s Job all use it).
"""

from __future__ import annotations

import asyncio
import importlib.resources
from typing import Any

from alembic import command, context, op
from alembic.config import Config
from sqlalchemy import Connection, text

from service_common.db import async_url, create_engine


def alembic_config(package: str, url: str) -> Config:
    """Build the Alembic config of a service package without an alembic.ini on disk."""
    config = Config()
    location = importlib.resources.files(package) / "migrations"
    config.set_main_option("script_location", str(location))
    config.set_main_option("sqlalchemy.url", async_url(url).replace("%", "%%"))
    return config


def upgrade(package: str, url: str, revision: str = "head") -> None:
    """Upgrade one service's schema to `revision`."""
    command.upgrade(alembic_config(package, url), revision)


def downgrade(package: str, url: str, revision: str) -> None:
    """Downgrade one service's schema to `revision`."""
    command.downgrade(alembic_config(package, url), revision)


def run_env(schema: str) -> None:
    """Body of a service's env.py: run its revisions online, versioned inside its own schema."""
    url = context.config.get_main_option("sqlalchemy.url")
    assert url is not None, "sqlalchemy.url is set by alembic_config()"

    def run(connection: Connection) -> None:
        connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        context.configure(
            connection=connection,
            version_table_schema=schema,
            transactional_ddl=True,
        )
        with context.begin_transaction():
            context.run_migrations()

    async def main() -> None:
        engine = create_engine(
            url,
            pool_size=1,
            max_overflow=0,
            pool_timeout_s=30,
            pool_recycle_s=3600,
            statement_timeout_ms=600_000,
            application_name=f"migrate-{schema}",
        )
        try:
            async with engine.begin() as connection:
                await connection.run_sync(run)
        finally:
            await engine.dispose()

    asyncio.run(main())


def run_sql(script: str) -> None:
    """Run a `;`-separated DDL script statement by statement (asyncpg prepares one at a time)."""
    for statement in script.split(";"):
        if statement.strip():
            op.execute(statement)


def main(argv: list[str] | None = None) -> int:
    """CLI: `python -m service_common.migrate PKG... --url DSN` (or DATABASE_URL)."""
    import argparse
    import os

    parser = argparse.ArgumentParser(description="Upgrade service schemas to head.")
    parser.add_argument("packages", nargs="+", help="service packages, e.g. identity_service")
    parser.add_argument("--url", default=os.environ.get("DATABASE_URL"))
    args: Any = parser.parse_args(argv)
    if not args.url:
        parser.error("give --url or set DATABASE_URL")
    for package in args.packages:
        upgrade(package, args.url)
        print(f"{package}: at head")
    return 0
