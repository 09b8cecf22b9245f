"""Settings of the identity service, read from `IDENTITY_*` (nested with `__`)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict
from service_common.settings import DatabaseSettings, JWTSettings, RedisSettings, ServiceSettings


class Settings(ServiceSettings):
    """E.g. `IDENTITY_DB__URL`, `IDENTITY_REDIS__URL`, `IDENTITY_JWT__SECRET`."""

    model_config = SettingsConfigDict(
        env_prefix="IDENTITY_", env_nested_delimiter="__", extra="ignore"
    )

    db: DatabaseSettings = DatabaseSettings()
    redis: RedisSettings = RedisSettings()
    jwt: JWTSettings = JWTSettings()
