"""Request dependencies every service with a database shares, as `Annotated` aliases.

They read the `db` entry (a `resources.Database`) that the service's lifespan put in the state.
`scope="function"` makes the commit happen before the response is sent, so a caller that got a
2xx can rely on the write.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from service_common.db import session_scope


async def primary_session(request: Request) -> AsyncIterator[AsyncSession]:
    """Yield a primary-pool session that commits when the route succeeds."""
    async with session_scope(request.state.db.sessions) as session:
        yield session


async def read_session(request: Request) -> AsyncIterator[AsyncSession]:
    """Yield a read-pool session (the replica's when configured); it connects on first query."""
    async with session_scope(request.state.db.read_sessions) as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(primary_session, scope="function")]
ReadSessionDep = Annotated[AsyncSession, Depends(read_session, scope="function")]
