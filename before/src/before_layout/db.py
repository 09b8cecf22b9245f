"""One psycopg2 pool per service process, and the three ways the services query it.

Every statement is counted for the evidence headers. Connections run in autocommit, so the
statement count matches what PostgreSQL's pg_stat_statements sees (no implicit BEGIN/COMMIT).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg2
import psycopg2.extras
import psycopg2.pool

from before_layout import evidence

Row = dict[str, Any]
Params = Sequence[Any] | dict[str, Any] | None

psycopg2.extras.register_uuid()


class Database:
    """A lazily opened psycopg2 pool: each of the 14 services holds its own."""

    def __init__(self, dsn: str, *, maxconn: int) -> None:
        self.dsn = dsn
        self.maxconn = maxconn
        self._pool: psycopg2.pool.ThreadedConnectionPool | None = None
        self._lock = threading.Lock()

    # ANTI-PATTERN (fix 1: merge services): 14 processes x their own pool = 14 pools on one
    # database; the after layout runs 4 services with sized asyncpg pools.
    def _get_pool(self) -> psycopg2.pool.ThreadedConnectionPool:
        with self._lock:
            if self._pool is None:
                self._pool = psycopg2.pool.ThreadedConnectionPool(1, self.maxconn, self.dsn)
            return self._pool

    @contextmanager
    def cursor(self) -> Iterator[psycopg2.extras.RealDictCursor]:
        """Borrow a connection and yield a dict cursor on it."""
        pool = self._get_pool()
        conn = pool.getconn()
        broken = False
        try:
            conn.autocommit = True
            with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
                yield cur
        except (psycopg2.OperationalError, psycopg2.InterfaceError):
            broken = True
            raise
        finally:
            pool.putconn(conn, close=broken)

    # ANTI-PATTERN (fix 2: async stack): these are blocking psycopg2 calls, made straight from
    # `async def` endpoints, so the event loop stops while PostgreSQL answers (after: asyncpg).
    def fetch_one(self, sql: str, params: Params = None) -> Row | None:
        """Run a query and return its first row."""
        with self.cursor() as cur:
            evidence.count_statement()
            cur.execute(sql, params)
            row = cur.fetchone()
            return dict(row) if row is not None else None

    def fetch_all(self, sql: str, params: Params = None) -> list[Row]:
        """Run a query and return all rows."""
        with self.cursor() as cur:
            evidence.count_statement()
            cur.execute(sql, params)
            return [dict(row) for row in cur.fetchall()]

    def execute(self, sql: str, params: Params = None) -> int:
        """Run a statement and return the number of rows it touched."""
        with self.cursor() as cur:
            evidence.count_statement()
            cur.execute(sql, params)
            return int(cur.rowcount)

    def close(self) -> None:
        """Close every pooled connection."""
        with self._lock:
            if self._pool is not None:
                self._pool.closeall()
                self._pool = None
