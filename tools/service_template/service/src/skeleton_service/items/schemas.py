"""Bodies and parameters of the item routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Path, Query
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

BIGINT_MAX = 2**63 - 1
DEFAULT_PAGE = 20
MAX_PAGE = 100

# An id beyond bigint would reach PostgreSQL as an overflow error (a 500); refuse it with a 422.
ItemIdPath = Annotated[int, Path(ge=1, le=BIGINT_MAX)]
PageLimit = Annotated[int, Query(ge=1, le=MAX_PAGE)]
ItemName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]


class ItemCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: ItemName
    description: Annotated[str, Field(max_length=2000)] = ""


class ItemRead(BaseModel):
    id: int
    name: str
    description: str
    created_at: datetime


class ItemPage(BaseModel):
    items: list[ItemRead]
