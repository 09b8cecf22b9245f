"""Field types shared by the user domains."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from pydantic import AfterValidator, EmailStr, Field, HttpUrl, StringConstraints, TypeAdapter

BIGINT_MAX = 2**63 - 1
MAX_EMAIL_LENGTH = 254
MAX_URL_LENGTH = 500

_HTTP_URL = TypeAdapter(HttpUrl)


def _normalise_email(value: str) -> str:
    if len(value) > MAX_EMAIL_LENGTH:
        raise ValueError(f"at most {MAX_EMAIL_LENGTH} characters")
    return value.lower()


def _http_url(value: str) -> str:
    return str(_HTTP_URL.validate_python(value))


# An id beyond bigint would reach PostgreSQL as an overflow error (a 500); refuse it with a 422.
UserIdPath = Annotated[int, Path(ge=1, le=BIGINT_MAX)]
UserId = Annotated[int, Field(ge=1, le=BIGINT_MAX)]
Email = Annotated[EmailStr, AfterValidator(_normalise_email)]
DisplayName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
# http(s) only, parsed by pydantic and stored in its normalised form.
HttpUrlStr = Annotated[str, StringConstraints(max_length=MAX_URL_LENGTH), AfterValidator(_http_url)]
