"""Settings of the user service, read from `USER_*` (nested with `__`)."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from pydantic import Field, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict
from service_common.settings import DatabaseSettings, RedisSettings, ServiceSettings


class Settings(ServiceSettings):
    """E.g. `USER_DB__URL`, `USER_REDIS__URL`, `USER_WEBHOOK_ALLOWED_HOSTS=127.0.0.1:8090`."""

    model_config = SettingsConfigDict(env_prefix="USER_", env_nested_delimiter="__", extra="ignore")

    db: DatabaseSettings = DatabaseSettings()
    redis: RedisSettings = RedisSettings()
    cache_prefix: str = Field(default="user", min_length=1, max_length=40)
    cache_enabled: bool = True  # off only for the bench ladder's no-cache rungs
    # `host` or `host:port` entries exempt from the webhook SSRF check: the local webhook
    # receiver that stands for a customer's endpoint in tests and the bench. Keep it empty in
    # production.
    webhook_allowed_hosts: Annotated[list[str], NoDecode, Field(default_factory=list)]

    @field_validator("webhook_allowed_hosts", mode="before")
    @classmethod
    def _parse_hosts(cls, value: Any) -> Any:
        """Accept a JSON list or a comma-separated string from the environment."""
        if not isinstance(value, str):
            return value
        if value.lstrip().startswith("["):
            return orjson.loads(value)
        return [host.strip() for host in value.split(",") if host.strip()]
