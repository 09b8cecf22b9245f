"""JWT issue and verify with PyJWT: one pinned algorithm, required claims, a key of 32+ bytes."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Literal

import jwt

from service_common.errors import Unauthorized

ALGORITHM = "HS256"  # pinned: the token's own header never chooses how it is verified
MIN_KEY_BYTES = 32
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
        try:
            payload = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                options={"require": REQUIRED_CLAIMS},
                leeway=5,
            )
            if payload["typ"] != expected_type:
                raise Unauthorized(f"expected an {expected_type} token")
            return TokenClaims(
                user_id=int(payload["sub"]),
                session_id=str(payload["sid"]),
                token_id=str(payload["jti"]),
                token_type=expected_type,
                expires_at=int(payload["exp"]),
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("token expired") from exc
        except (jwt.InvalidTokenError, ValueError, KeyError) as exc:
            raise Unauthorized("invalid token") from exc


def bearer_token(authorization: str | None) -> str:
    """Extract the token of an `Authorization: Bearer <token>` header, or raise Unauthorized."""
    if not authorization:
        raise Unauthorized("missing bearer token", headers={"WWW-Authenticate": "Bearer"})
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("malformed authorization header", headers={"WWW-Authenticate": "Bearer"})
    return token.strip()
