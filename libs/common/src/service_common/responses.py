"""Responses serialised with orjson, for bodies a service composes itself.

Routes with a response model are serialised by pydantic-core straight to bytes (FastAPI's fast
path); composed bodies, such as core_api's dashboard built from peers' JSON, use this class.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import JSONResponse


class OrjsonResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)
