"""Password hashing with pwdlib's Argon2, off the event loop.

Argon2 is deliberately expensive (tens of milliseconds of CPU); run inline it would stall every
other request on the loop, so it goes to a worker thread (argon2-cffi releases the GIL).
"""

from __future__ import annotations

import asyncio
from functools import lru_cache

from pwdlib import PasswordHash

# Verifying against this keeps the time of "no such user" equal to "wrong password".
_DUMMY_PASSWORD = "timing-equaliser-not-a-real-password"


@lru_cache(maxsize=1)
def _hasher() -> PasswordHash:
    return PasswordHash.recommended()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher().hash(_DUMMY_PASSWORD)


async def hash_password(password: str) -> str:
    """Hash a password in a worker thread."""
    return await asyncio.to_thread(_hasher().hash, password)


async def verify_password(password: str, password_hash: str | None) -> bool:
    """Verify in a worker thread; with no hash, spend the same time and return False."""
    if password_hash is None:
        await asyncio.to_thread(_hasher().verify, password, _dummy_hash())
        return False
    return await asyncio.to_thread(_hasher().verify, password, password_hash)
