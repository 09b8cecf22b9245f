"""Settings of the public edge, read from `CORE_API_*` (nested with `__`)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, IPvAnyNetwork, SecretStr
from pydantic_settings import SettingsConfigDict
from service_common.settings import JWTSettings, RedisSettings, ServiceSettings

# A peer slower than this is treated as down: the edge answers 504 instead of queueing.
PeerTimeout = Annotated[float, Field(gt=0, le=30)]


class DownloadSettings(BaseModel):
    """Signed download URLs: the key core_api signs and verifies with, and how long a link lives."""

    secret: SecretStr = SecretStr("change-me")
    ttl_s: int = Field(default=300, ge=10, le=3600)


class LoginLimits(BaseModel):
    """Login attempts allowed per (client IP, email) and per client IP (`limits` syntax)."""

    per_account: str = "5/minute"
    per_ip: str = "20/minute"


class ViewSettings(BaseModel):
    """The owners' cached views read at the edge (service_common.views): prefixes and a switch.

    Off only for the bench ladder's rungs without the cache; the prefixes are the owners' own
    (`USER_CACHE_PREFIX`, and the jobs service's fixed "jobs").
    """

    enabled: bool = True
    user_prefix: str = Field(default="user", min_length=1, max_length=40)
    jobs_prefix: str = Field(default="jobs", min_length=1, max_length=40)


class Settings(ServiceSettings):
    """E.g. `CORE_API_JWT__SECRET`, `CORE_API_DOWNLOADS__SECRET`, `CORE_API_USER_URL`."""

    model_config = SettingsConfigDict(
        env_prefix="CORE_API_", env_nested_delimiter="__", extra="ignore"
    )

    redis: RedisSettings = RedisSettings()
    jwt: JWTSettings = JWTSettings()
    downloads: DownloadSettings = DownloadSettings()
    login_limits: LoginLimits = LoginLimits()
    views: ViewSettings = ViewSettings()

    identity_url: str = "http://127.0.0.1:8101"
    user_url: str = "http://127.0.0.1:8102"
    jobs_url: str = "http://127.0.0.1:8103"
    # Login hashes a password (Argon2) on identity, so it gets the longest budget.
    identity_timeout_s: PeerTimeout = 3.0
    user_timeout_s: PeerTimeout = 2.0
    jobs_timeout_s: PeerTimeout = 3.0
    connect_timeout_s: PeerTimeout = 1.0

    # Addresses or networks of proxies whose X-Forwarded-For is believed; anyone else could forge
    # it to dodge the login limiter. E.g. '["10.0.0.0/8"]'.
    trusted_proxies: Annotated[list[IPvAnyNetwork], Field(default_factory=list)]
