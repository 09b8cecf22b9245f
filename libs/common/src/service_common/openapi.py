"""Make the OpenAPI schema tell the truth about errors: `{error, detail}`, never FastAPI's own.

FastAPI documents every route's 422 as `HTTPValidationError` (`detail` a list of problems), but
the installed handler answers in the one error shape (`detail` a string). A client generated
from the schema, or a tool such as Schemathesis that checks responses against it, would find
every 422 wrong. Routes that document their errors themselves keep what they say.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

ERROR_SCHEMA_NAME = "Error"
ERROR_SCHEMA: dict[str, Any] = {
    "title": ERROR_SCHEMA_NAME,
    "type": "object",
    "properties": {
        "error": {"type": "string", "title": "Error"},
        "detail": {"type": "string", "title": "Detail"},
    },
    "required": ["error", "detail"],
}
_FASTAPI_422 = "#/components/schemas/HTTPValidationError"


def document_error_shape(app: FastAPI) -> None:
    """Rewrite FastAPI's default 422 responses to the error shape when the schema is built."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        replaced = False
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                response = operation.get("responses", {}).get("422", {})
                body = response.get("content", {}).get("application/json", {})
                if body.get("schema", {}).get("$ref") == _FASTAPI_422:
                    body["schema"] = {"$ref": f"#/components/schemas/{ERROR_SCHEMA_NAME}"}
                    replaced = True
        if replaced:
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components.setdefault(ERROR_SCHEMA_NAME, ERROR_SCHEMA)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
