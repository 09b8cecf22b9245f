"""Test machinery every service's suite shares: a migrated database, the app's lifespan, an
in-process client, and per-test isolation in one rolled-back transaction.

A service's `tests/conftest.py` keeps what is its own (settings, seed helpers, cache flushing)
and builds its fixtures from these:

- `migrate_database` creates a database and runs the service's real Alembic revisions on it;
- `lifespan_state` opens the app's lifespan and yields its state;
- `asgi_client` is an `httpx.AsyncClient` on the app in process, handing each request that state
  (a server does that; `httpx.ASGITransport` does not run the lifespan);
- `outer_transaction` yields a connection inside a transaction that is rolled back afterwards,
  and `rolled_back_sessions` / `shared_session` make the app's session dependencies use it, so
  that what a test's requests write is gone after the test;
- `delete_keys` empties what a test left in Redis under a prefix;
- `running_app` bundles the lifespan, the client and that isolation as a `RunningApp`.

A service's suite defines a session-scoped `running` fixture (a `RunningApp`) and takes the
per-test fixtures every suite has from `per_test_fixtures()`:

    state, connection, client, committed_client = testing.per_test_fixtures()

pytest is imported only by that function, so the rest of the module runs without it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, asynccontextmanager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker
from starlette.types import Receive, Scope, Send

from service_common.db import session_scope
from service_common.deps import primary_session, read_session
from service_common.migrations import upgrade

SessionDependency = Callable[[], AsyncIterator[AsyncSession]]
"""What overrides `primary_session` / `read_session`: an async generator of one session."""


def migrate_database(create_database: Callable[[str], str], name: str, package: str) -> str:
    """Create the database `name`, upgrade `package`'s schema on it to head; return its DSN.

    `create_database` is the test servers' (`Infra.create_database`). `upgrade()` runs its own
    event loop, so it runs in a thread of its own, off the test loop's.
    """
    dsn = create_database(name)
    with ThreadPoolExecutor(1) as pool:
        pool.submit(upgrade, package, dsn).result()
    return dsn


@asynccontextmanager
async def lifespan_state(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
    """Run the app's lifespan around the block; yield (a copy of) the state it opened."""
    async with app.router.lifespan_context(app) as opened:
        yield dict(opened or {})


def asgi_client(
    app: FastAPI,
    state: Mapping[str, Any],
    *,
    base_url: str = "http://testserver",
    client: tuple[str, int] = ("127.0.0.1", 123),
) -> httpx.AsyncClient:
    """An `httpx.AsyncClient` on the app in process; each request gets a copy of `state`.

    `state` is read at each request, so changes a test makes to it later reach the app; what a
    request changes in its copy does not leak to the next. `client` is the peer address the app
    sees (httpx's default unless given).
    """

    async def with_state(scope: Scope, receive: Receive, send: Send) -> None:
        scope["state"] = dict(state)
        await app(scope, receive, send)

    transport = httpx.ASGITransport(app=with_state, client=client)
    return httpx.AsyncClient(transport=transport, base_url=base_url)


@asynccontextmanager
async def serve(
    app: FastAPI, *, base_url: str = "http://testserver"
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, Any]]]:
    """Run the app's lifespan and yield `(client, state)`: `lifespan_state` and `asgi_client`."""
    async with lifespan_state(app) as state, asgi_client(app, state, base_url=base_url) as client:
        yield client, state


@asynccontextmanager
async def outer_transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection inside an outer transaction that is rolled back when the block ends."""
    async with engine.connect() as connection:
        outer = await connection.begin()
        try:
            yield connection
        finally:
            await outer.rollback()


@contextmanager
def override_sessions(app: FastAPI, dependency: SessionDependency) -> Iterator[None]:
    """Serve `primary_session` and `read_session` from `dependency` inside the block.

    On exit every dependency override of the app is cleared, not only these two.
    """
    app.dependency_overrides[primary_session] = dependency
    app.dependency_overrides[read_session] = dependency
    try:
        yield
    finally:
        app.dependency_overrides.clear()


def rolled_back_sessions(app: FastAPI, connection: AsyncConnection) -> AbstractContextManager[None]:
    """Give each request a session of its own on `connection`, inside the block.

    Each session runs in a savepoint of the connection's transaction and commits or rolls back
    that savepoint as `session_scope` does; the outer transaction (`outer_transaction`) is what
    undoes the test's writes.
    """
    factory = async_sessionmaker(
        bind=connection,
        expire_on_commit=False,
        autoflush=False,
        join_transaction_mode="create_savepoint",
    )

    async def per_request() -> AsyncIterator[AsyncSession]:
        async with session_scope(factory) as session:
            yield session

    return override_sessions(app, per_request)


def shared_session(app: FastAPI, session: AsyncSession) -> AbstractContextManager[None]:
    """Hand every request the test's own `session`, as is (no commit, no close), in the block."""

    async def same_session() -> AsyncIterator[AsyncSession]:
        yield session

    return override_sessions(app, same_session)


async def delete_keys(redis: Redis, pattern: str) -> None:
    """Delete the Redis keys that match `pattern` (a SCAN glob, e.g. `"prefix:*"`)."""
    keys = [key async for key in redis.scan_iter(match=pattern)]
    if keys:
        await redis.delete(*keys)


Reset = Callable[[dict[str, Any]], Awaitable[None]]
"""Run before each client is opened, on the lifespan state: e.g. empty the service's Redis keys."""


@dataclass(frozen=True)
class RunningApp:
    """A service's app with its lifespan open, and how its tests reach it."""

    app: FastAPI
    state: dict[str, Any]
    base_url: str = "http://testserver"
    reset: Reset | None = None

    @asynccontextmanager
    async def client(
        self, connection: AsyncConnection | None = None
    ) -> AsyncIterator[httpx.AsyncClient]:
        """Open a client on the app, after `reset`.

        With `connection`, each request's sessions run in savepoints of that connection's
        transaction (`rolled_back_sessions`); without, they use the app's real pools, where
        writes commit.
        """
        sessions: AbstractContextManager[None] = (
            nullcontext() if connection is None else rolled_back_sessions(self.app, connection)
        )
        with sessions:
            if self.reset is not None:
                await self.reset(self.state)
            async with asgi_client(self.app, self.state, base_url=self.base_url) as http:
                yield http


@asynccontextmanager
async def running_app(
    app: FastAPI, *, base_url: str = "http://testserver", reset: Reset | None = None
) -> AsyncIterator[RunningApp]:
    """Run the app's lifespan around the block; yield it as a `RunningApp`."""
    async with lifespan_state(app) as state:
        yield RunningApp(app, state, base_url, reset)


# Bodies of the per-test fixtures every service's suite has (`per_test_fixtures`).


def _state(running: RunningApp) -> dict[str, Any]:
    """The app's lifespan state."""
    return running.state


async def _connection(running: RunningApp) -> AsyncIterator[AsyncConnection]:
    """A connection inside an outer transaction that is rolled back after the test."""
    async with outer_transaction(running.state["db"].engine) as connection:
        yield connection


async def _client(
    running: RunningApp, connection: AsyncConnection
) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose requests run in savepoints of `connection`: their writes are rolled back."""
    async with running.client(connection) as http:
        yield http


async def _committed_client(running: RunningApp) -> AsyncIterator[httpx.AsyncClient]:
    """A client on the real pools: writes commit, so tests must delete what they create."""
    async with running.client() as http:
        yield http


def per_test_fixtures() -> tuple[object, object, object, object]:
    """Return the fixtures `state`, `connection`, `client` and `committed_client`, in that order.

    Assign them in a conftest under those names (pytest names a fixture after the attribute);
    they need a `running` fixture that yields a `RunningApp`. `connection` is the test's outer
    transaction, rolled back after it; `client`'s requests run in savepoints of it;
    `committed_client` uses the real pools, so what its requests write stays.
    """
    import pytest

    return (
        pytest.fixture(_state),
        pytest.fixture(_connection),
        pytest.fixture(_client),
        pytest.fixture(_committed_client),
    )
