"""config service: runtime settings kept in the `config` table, served one key per request."""

from __future__ import annotations

from before_layout.errors import ApiError
from before_layout.web import create_service

app, db = create_service("config")


@app.get("/internal/config/{key}")
async def get_config(key: str) -> dict[str, object]:
    # ANTI-PATTERN (fix 5: cache): values that change once a year are read from the database,
    # over a hop, on every request that needs them (after: settings in process, Redis for the rest).
    row = db.fetch_one("SELECT * FROM config WHERE key = %s", (key,))
    if row is None:
        raise ApiError(404, f"no config key {key!r}")
    return {"key": row["key"], "value": row["value"]}
