"""Settings building blocks: each service composes them into its own prefixed class."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = frozenset(
    {"", "change-me", "changeme", "secret", "dev-secret", "placeholder"}
)
MIN_SECRET_BYTES = 32


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class DatabaseSettings(BaseModel):
    """A PostgreSQL pool: sized explicitly, because the default hides the capacity math."""

    url: str = "postgresql://postgres@127.0.0.1:5432/app"
    read_url: str | None = None  # a read replica for read-only queries, when set
    pool_size: int = Field(default=10, ge=1, le=200)
    max_overflow: int = Field(default=5, ge=0, le=200)
    pool_timeout_s: float = Field(default=5.0, gt=0)
    pool_recycle_s: int = Field(default=1800, ge=30)
    statement_timeout_ms: int = Field(default=5000, ge=100)
    pgbouncer: bool = False  # transaction pooling: no server-side prepared statements


class RedisSettings(BaseModel):
    url: str = "redis://127.0.0.1:6379/0"
    socket_timeout_s: float = Field(default=0.25, gt=0)
    max_connections: int = Field(default=64, ge=1)


class JWTSettings(BaseModel):
    """Signing parameters. The algorithm is pinned: tokens never choose how they are checked."""

    secret: SecretStr = SecretStr("change-me")
    issuer: str = "fastapi-refactor-lab"
    audience: str = "fastapi-refactor-lab:api"
    access_ttl_s: int = Field(default=900, ge=30, le=86_400)
    refresh_ttl_s: int = Field(default=14 * 86_400, ge=60)


class ServiceSettings(BaseSettings):
    """Fields every service has; a subclass sets `model_config` with its own env prefix."""

    model_config = SettingsConfigDict(env_nested_delimiter="__", extra="ignore")

    environment: Environment = Environment.DEVELOPMENT
    log_level: str = "INFO"
    cors_origins: Annotated[list[str], Field(default_factory=list)]
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    # Requests one worker process serves at once; past it, 503 + Retry-After (see shedding).
    max_in_flight: int = Field(default=64, ge=1, le=10_000)
    profiling: bool = False  # pyinstrument per request with ?profile=1; development only

    @field_validator("log_level")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> ServiceSettings:
        if self.environment is Environment.DEVELOPMENT:
            return self
        if self.profiling:
            raise ValueError("profiling is for development only")
        for name, secret in _secrets(self):
            value = secret.get_secret_value()
            if value.lower() in PLACEHOLDER_SECRETS or len(value.encode()) < MIN_SECRET_BYTES:
                raise ValueError(
                    f"{name} must be a real secret of {MIN_SECRET_BYTES}+ bytes "
                    f"outside development (environment={self.environment.value})"
                )
        return self


def _secrets(model: BaseModel, prefix: str = "") -> list[tuple[str, SecretStr]]:
    """List every SecretStr in a settings tree with its dotted name."""
    found: list[tuple[str, SecretStr]] = []
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, SecretStr):
            found.append((f"{prefix}{name}", value))
        elif isinstance(value, BaseModel):
            found.extend(_secrets(value, f"{prefix}{name}."))
    return found
