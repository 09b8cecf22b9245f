"""Session rules: login, refresh-token rotation with reuse detection, revocation."""

from __future__ import annotations

import logging
import time
import uuid
from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis
from service_common.errors import NotFound, ServiceUnavailable, Unauthorized
from service_common.passwords import verify_password
from service_common.redis import REDIS_ERRORS
from service_common.revocation import mark_revoked
from service_common.settings import JWTSettings
from service_common.tokens import TokenCodec
from sqlalchemy.ext.asyncio import AsyncSession

from identity_service.accounts.repository import find_credentials
from identity_service.sessions import repository
from identity_service.sessions.schemas import SessionCreate, TokenPairRead

log = logging.getLogger(__name__)


async def login(
    *, session: AsyncSession, tokens: TokenCodec, jwt: JWTSettings, data: SessionCreate
) -> TokenPairRead:
    """Check the credentials, open a session and issue its first token pair."""
    account = await find_credentials(session, email=data.email)
    # An unknown email costs one Argon2 verification too, and gets the same answer, so neither
    # timing nor wording tells which emails have accounts.
    password_hash = account["password_hash"] if account else None
    if not await verify_password(data.password, password_hash) or account is None:
        raise Unauthorized("invalid email or password")
    session_id, refresh_jti = uuid.uuid4(), uuid.uuid4()
    expires_at = datetime.now(UTC) + timedelta(seconds=jwt.refresh_ttl_s)
    await repository.insert_session(
        session,
        session_id=session_id,
        user_id=account["id"],
        refresh_jti=refresh_jti,
        expires_at=expires_at,
    )
    return _issue_pair(
        tokens=tokens,
        jwt=jwt,
        user_id=account["id"],
        session_id=session_id,
        refresh_jti=refresh_jti,
        refresh_ttl_s=jwt.refresh_ttl_s,
    )


async def refresh(
    *,
    session: AsyncSession,
    redis: Redis,
    tokens: TokenCodec,
    jwt: JWTSettings,
    refresh_token: str,
) -> TokenPairRead:
    """Rotate a session's token pair; a refresh token used twice revokes the session."""
    claims = tokens.verify(refresh_token, expected_type="refresh")
    try:
        session_id, presented_jti = uuid.UUID(claims.session_id), uuid.UUID(claims.token_id)
    except ValueError as exc:
        raise Unauthorized("invalid token") from exc
    row = await repository.lock_session(session, session_id=session_id)
    now = datetime.now(UTC)
    if (
        row is None
        or row["user_id"] != claims.user_id
        or row["revoked_at"] is not None
        or row["expires_at"] <= now
    ):
        raise Unauthorized("session expired or revoked")
    if uuid.UUID(str(row["refresh_jti"])) != presented_jti:
        # Only the newest refresh token is valid; an older one coming back means it leaked (or a
        # client raced itself): end the session for every holder.
        await repository.revoke_session(session, session_id=session_id)
        await session.commit()  # the revocation must outlive the 401 raised below
        await _publish_revocation(redis=redis, jwt=jwt, session_id=session_id, required=False)
        raise Unauthorized("refresh token reused; session revoked")
    new_jti = uuid.uuid4()
    await repository.rotate_refresh(session, session_id=session_id, refresh_jti=new_jti)
    return _issue_pair(
        tokens=tokens,
        jwt=jwt,
        user_id=claims.user_id,
        session_id=session_id,
        refresh_jti=new_jti,
        # Rotation does not extend the session: its lifetime is fixed at login.
        refresh_ttl_s=max(1, int((row["expires_at"] - now).total_seconds())),
    )


async def revoke(
    *, session: AsyncSession, redis: Redis, jwt: JWTSettings, session_id: uuid.UUID
) -> None:
    """Revoke a session (logout); revoking it again succeeds."""
    if not await repository.revoke_session(session, session_id=session_id):
        raise NotFound("session not found")
    await session.commit()  # durable first: Redis is the fast path, the database the record
    await _publish_revocation(redis=redis, jwt=jwt, session_id=session_id, required=True)


async def is_active(*, session: AsyncSession, session_id: uuid.UUID) -> bool:
    """Tell whether a session may still be used (verifiers ask when Redis cannot answer)."""
    return await repository.is_active(session, session_id=session_id)


async def _publish_revocation(
    *, redis: Redis, jwt: JWTSettings, session_id: uuid.UUID, required: bool
) -> None:
    """Tell every verifier through Redis, until the session's last access token expires."""
    try:
        until = int(time.time()) + jwt.access_ttl_s
        await mark_revoked(redis, str(session_id), until_epoch_s=until)
    except REDIS_ERRORS as exc:
        log.warning("revocation not published", extra={"sid": str(session_id), "error": repr(exc)})
        if required:
            # A logout that verifiers do not see is not done: ask the caller to retry (the
            # database part is idempotent).
            raise ServiceUnavailable("session revoked but not yet published; retry") from exc


def _issue_pair(
    *,
    tokens: TokenCodec,
    jwt: JWTSettings,
    user_id: int,
    session_id: uuid.UUID,
    refresh_jti: uuid.UUID,
    refresh_ttl_s: int,
) -> TokenPairRead:
    access, _ = tokens.issue(
        user_id=user_id, session_id=str(session_id), token_type="access", ttl_s=jwt.access_ttl_s
    )
    refresh_token, _ = tokens.issue(
        user_id=user_id,
        session_id=str(session_id),
        token_type="refresh",
        ttl_s=refresh_ttl_s,
        token_id=refresh_jti.hex,
    )
    return TokenPairRead(
        access_token=access,
        refresh_token=refresh_token,
        expires_in=jwt.access_ttl_s,
        user_id=user_id,
    )
