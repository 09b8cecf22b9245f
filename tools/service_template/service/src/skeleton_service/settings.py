"""Settings of the skeleton service, read from `SKELETON_*` variables."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict
from service_common.settings import DatabaseSettings, RedisSettings, ServiceSettings


class Settings(ServiceSettings):
    """Nested with `__`: e.g. `SKELETON_DB__URL`, `SKELETON_REDIS__URL`."""

    model_config = SettingsConfigDict(
        env_prefix="SKELETON_", env_nested_delimiter="__", extra="ignore"
    )

    db: DatabaseSettings = DatabaseSettings()
    redis: RedisSettings = RedisSettings()
    cache_prefix: str = Field(default="skeleton", min_length=1, max_length=40)
