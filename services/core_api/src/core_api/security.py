"""Who is calling: the bearer token's claims, checked locally, and the client's address."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Sequence

from redis.asyncio import Redis
from service_common.errors import Unauthorized
from service_common.redis import REDIS_ERRORS
from service_common.revocation import is_revoked
from service_common.tokens import TokenClaims, TokenCodec

from core_api.peers import Peers, read_json

log = logging.getLogger(__name__)

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


async def authenticate(
    *, token: str | None, tokens: TokenCodec, redis: Redis, peers: Peers
) -> TokenClaims:
    """Verify a bearer access token and make sure its session was not logged out since."""
    if not token:
        raise Unauthorized("missing bearer token", headers={"WWW-Authenticate": "Bearer"})
    claims = tokens.verify(token, expected_type="access")
    try:
        revoked = await is_revoked(redis, claims.session_id)
    except REDIS_ERRORS:
        # Redis cannot say, so ask the source of truth: an outage must not let a logged-out token
        # through, and identity answers from its own table.
        log.warning("revocation store unavailable, asking identity")
        revoked = not await _session_active(peers, claims.session_id)
    if revoked:
        raise Unauthorized("session revoked", headers={"WWW-Authenticate": "Bearer"})
    return claims


async def _session_active(peers: Peers, session_id: str) -> bool:
    response = await peers.request(peers.identity, "GET", f"/internal/sessions/{session_id}")
    return read_json(peers.identity, response, "active")["active"] is True


def client_ip(
    *, peer: str | None, forwarded_for: str | None, trusted_proxies: Sequence[IPNetwork]
) -> str:
    """Return the caller's address: the socket peer's, or a trusted proxy's X-Forwarded-For."""
    if peer is None:
        return "unknown"
    if not forwarded_for or not _is_trusted(peer, trusted_proxies):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    # Each proxy appends the address it saw: the last hop no trusted proxy added is the client.
    for hop in reversed(hops):
        if not _is_trusted(hop, trusted_proxies):
            return hop
    return hops[0] if hops else peer


def _is_trusted(address: str, trusted_proxies: Sequence[IPNetwork]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted_proxies)
