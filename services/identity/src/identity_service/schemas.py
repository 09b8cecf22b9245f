"""Field types shared by the identity domains."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from pydantic import AfterValidator, EmailStr, Field

MAX_EMAIL_LENGTH = 254  # RFC 5321's limit on a forward path
BIGINT_MAX = 2**63 - 1


def _normalise_email(value: str) -> str:
    if len(value) > MAX_EMAIL_LENGTH:
        raise ValueError(f"at most {MAX_EMAIL_LENGTH} characters")
    # One account per mailbox, however the user capitalises it.
    return value.lower()


Email = Annotated[EmailStr, AfterValidator(_normalise_email)]
Password = Annotated[str, Field(min_length=8, max_length=128)]
# An id beyond bigint would reach PostgreSQL as an overflow error (a 500); refuse it with a 422.
AccountId = Annotated[int, Path(ge=1, le=BIGINT_MAX)]
