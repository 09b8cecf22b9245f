"""JWT issue and verify with PyJWT: one pinned algorithm, required claims, a key of 32+ bytes.

A verified token's claims are remembered (a bounded map keyed by the whole token string), so
the next request with the same token skips the signature check and the JSON decoding; its type
and expiry are checked again on every use. Only a byte-identical token, which was verified in
full, can hit: a forged or altered one is a different key and is checked from scratch.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Literal

import jwt

from service_common.errors import Unauthorized

ALGORITHM = "HS256"  # pinned: the token's own header never chooses how it is verified
MIN_KEY_BYTES = 32
LEEWAY_S = 5  # clock skew tolerated between the issuer and a verifier
VERIFIED_CACHE_SIZE = 4096  # tokens remembered per process (~2 MB at most)
REQUIRED_CLAIMS = ["exp", "iat", "nbf", "sub", "aud", "iss", "jti", "sid", "typ"]

TokenType = Literal["access", "refresh"]


@dataclass(frozen=True, slots=True)
class TokenClaims:
    user_id: int
    session_id: str
    token_id: str
    token_type: TokenType
    expires_at: int


class TokenCodec:
    """Sign and check tokens of one issuer for one audience."""

    def __init__(self, key: str, *, issuer: str, audience: str) -> None:
        if len(key.encode()) < MIN_KEY_BYTES:
            raise ValueError(f"the JWT key must be at least {MIN_KEY_BYTES} bytes")
        self._key = key
        self._issuer = issuer
        self._audience = audience
        self._verified: dict[str, TokenClaims] = {}

    def issue(
        self,
        *,
        user_id: int,
        session_id: str,
        token_type: TokenType,
        ttl_s: int,
        token_id: str | None = None,
    ) -> tuple[str, TokenClaims]:
        """Sign a token; return it with its claims."""
        now = int(time.time())
        claims = TokenClaims(
            user_id=user_id,
            session_id=session_id,
            token_id=token_id or uuid.uuid4().hex,
            token_type=token_type,
            expires_at=now + ttl_s,
        )
        payload = {
            "sub": str(user_id),
            "sid": session_id,
            "jti": claims.token_id,
            "typ": token_type,
            "iss": self._issuer,
            "aud": self._audience,
            "iat": now,
            "nbf": now,
            "exp": claims.expires_at,
        }
        return jwt.encode(payload, self._key, algorithm=ALGORITHM), claims

    def verify(self, token: str, *, expected_type: TokenType) -> TokenClaims:
        """Check signature, algorithm, time, issuer, audience and type, or raise Unauthorized."""
        claims = self._verified.get(token)
        if claims is None:
            claims = self._decode(token)
            if len(self._verified) >= VERIFIED_CACHE_SIZE:
                del self._verified[next(iter(self._verified))]  # the oldest entry
            self._verified[token] = claims
        if claims.token_type != expected_type:
            raise Unauthorized(f"expected an {expected_type} token")
        if claims.expires_at + LEEWAY_S < time.time():
            raise Unauthorized("token expired")
        return claims

    def _decode(self, token: str) -> TokenClaims:
        try:
            payload = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                options={"require": REQUIRED_CLAIMS},
                leeway=LEEWAY_S,
            )
            token_type = payload["typ"]
            if token_type not in ("access", "refresh"):
                raise Unauthorized("invalid token")
            return TokenClaims(
                user_id=int(payload["sub"]),
                session_id=str(payload["sid"]),
                token_id=str(payload["jti"]),
                token_type=token_type,
                expires_at=int(payload["exp"]),
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("token expired") from exc
        except (jwt.InvalidTokenError, ValueError, KeyError, TypeError) as exc:
            raise Unauthorized("invalid token") from exc


def bearer_token(authorization: str | None) -> str:
    """Extract the token of an `Authorization: Bearer <token>` header, or raise Unauthorized."""
    if not authorization:
        raise Unauthorized("missing bearer token", headers={"WWW-Authenticate": "Bearer"})
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("malformed authorization header", headers={"WWW-Authenticate": "Bearer"})
    return token.strip()
