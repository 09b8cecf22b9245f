"""Sign-up, login, token rotation and logout: identity holds the secrets, user the profile."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from service_common.errors import AppError

from core_api.auth.guard import LoginGuard
from core_api.auth.schemas import AccountCreate, SessionCreate
from core_api.peers import Peers, read_json

log = logging.getLogger(__name__)

TOKEN_FIELDS = ("access_token", "refresh_token", "token_type", "expires_in")


async def register(*, peers: Peers, data: AccountCreate) -> dict[str, Any]:
    """Create the account, then its profile; delete the account if the profile fails."""
    created = await peers.request(
        peers.identity,
        "POST",
        "/internal/accounts",
        json={"email": data.email, "password": data.password},
    )
    account = read_json(peers.identity, created, "id", "email", "created_at")
    profile = {"id": account["id"], "email": account["email"], "display_name": data.display_name}
    try:
        await peers.request(peers.user, "POST", "/internal/users", json=profile)
    except BaseException:
        # Nothing half-written: an account without a profile could log in to a broken user.
        # Shielded, so a cancelled request still compensates.
        await asyncio.shield(_delete_account(peers, account["id"]))
        raise
    return {
        "id": account["id"],
        "email": account["email"],
        "display_name": data.display_name,
        "created_at": account["created_at"],
    }


async def _delete_account(peers: Peers, account_id: int) -> None:
    try:
        await peers.request(peers.identity, "DELETE", f"/internal/accounts/{account_id}")
    except AppError:
        log.error("registration compensation failed", extra={"account_id": account_id})


async def login(
    *, peers: Peers, guard: LoginGuard, data: SessionCreate, ip: str
) -> tuple[dict[str, Any], dict[str, str], int]:
    """Check the limiter, open a session; return the token pair, limit headers and user id."""
    limit_headers = await guard.hit(ip=ip, email=data.email)
    response = await peers.request(
        peers.identity,
        "POST",
        "/internal/sessions",
        json={"email": data.email, "password": data.password},
    )
    session = read_json(peers.identity, response, *TOKEN_FIELDS, "user_id")
    await guard.clear(ip=ip, email=data.email)
    return {key: session[key] for key in TOKEN_FIELDS}, limit_headers, int(session["user_id"])


async def record_login(*, peers: Peers, user_id: int, ip: str) -> None:
    """Write the `login` activity event; a failure is logged, never the login's."""
    try:
        await peers.request(
            peers.user,
            "POST",
            f"/internal/users/{user_id}/events",
            json={"kind": "login", "actor_id": user_id, "payload": {"ip": ip}},
        )
    except AppError:
        log.warning("login event not recorded", extra={"user_id": user_id})


async def refresh(*, peers: Peers, refresh_token: str) -> dict[str, Any]:
    """Rotate a token pair (identity revokes the session when a used token comes back)."""
    response = await peers.request(
        peers.identity,
        "POST",
        "/internal/sessions/refresh",
        json={"refresh_token": refresh_token},
    )
    pair = read_json(peers.identity, response, *TOKEN_FIELDS)
    return {key: pair[key] for key in TOKEN_FIELDS}


async def logout(*, peers: Peers, session_id: str) -> None:
    """Revoke the session: identity records it in its table and in Redis for every verifier."""
    await peers.request(peers.identity, "POST", f"/internal/sessions/{session_id}/revoke")
