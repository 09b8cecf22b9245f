"""Settings of the jobs service and its Celery worker, read from JOBS_* environment variables."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict
from service_common.settings import DatabaseSettings, RedisSettings, ServiceSettings


class CelerySettings(BaseModel):
    """The queue: Redis broker, late acks, and how fast a dead worker's job comes back."""

    broker_url: str | None = None  # defaults to JOBS_REDIS__URL
    queue: str = Field(default="reports", min_length=1, max_length=100)
    eager: bool = False  # run tasks inside the caller (tests and the bench ladder only)
    # A message a worker took but never acknowledged (it was SIGKILLed) is handed out again once
    # it is this old. Kombu's default is one hour; a report must not wait that long, yet every
    # task, including the countdown of a retry, must finish well within it or run twice.
    visibility_timeout_s: int = Field(default=60, ge=2, le=43_200)
    max_retries: int = Field(default=5, ge=0, le=20)
    retry_backoff_s: int = Field(default=1, ge=1, le=60)  # first retry waits up to this
    retry_backoff_max_s: int = Field(default=30, ge=1, le=3600)
    publish_timeout_s: float = Field(default=2.0, gt=0, le=30)
    # The sweeper (sweeper/service.py, run by the API) publishes again a job that has not moved
    # for `redispatch_after_s` (default: three visibility timeouts) while the queue is empty: its
    # message was lost. A job still owed `give_up_after_s` after it was asked for is ended (the
    # report failed, the delivery given up). Not in eager mode.
    redispatch: bool = True
    redispatch_after_s: int | None = Field(default=None, ge=4, le=86_400)
    sweep_interval_s: float = Field(default=30, gt=0, le=3600)
    give_up_after_s: int = Field(default=86_400, ge=60, le=30 * 86_400)

    @model_validator(mode="after")
    def _timeouts_in_order(self) -> CelerySettings:
        if self.retry_backoff_max_s >= self.visibility_timeout_s:
            raise ValueError(
                "retry_backoff_max_s must be below visibility_timeout_s, or a retry waiting "
                "for its countdown is handed to another worker as well"
            )
        if self.stalled_after_s < 2 * self.visibility_timeout_s:
            raise ValueError(
                "redispatch_after_s must be at least twice visibility_timeout_s: the broker hands "
                "a dead worker's messages out again first, and the sweeper is for those it lost"
            )
        if self.give_up_after_s <= self.stalled_after_s:
            raise ValueError("give_up_after_s must be above redispatch_after_s")
        return self

    @property
    def stalled_after_s(self) -> int:
        """Return how long an owed job may go without moving before it is published again."""
        return self.redispatch_after_s or 3 * self.visibility_timeout_s

    @property
    def max_attempts(self) -> int:
        """Return how many times a delivery is tried before it is given up."""
        return self.max_retries + 1


class SMTPSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = Field(default=8025, ge=1, le=65_535)
    timeout_s: float = Field(default=10.0, gt=0, le=60)
    sender: str = Field(default="reports@refactor-lab.test", min_length=3, max_length=200)


class WebhookSettings(BaseModel):
    secret: SecretStr = SecretStr("change-me")
    timeout_s: float = Field(default=5.0, gt=0, le=30)


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="JOBS_", env_nested_delimiter="__", extra="ignore")

    db: Annotated[DatabaseSettings, Field(default_factory=DatabaseSettings)]
    redis: Annotated[RedisSettings, Field(default_factory=RedisSettings)]
    celery: Annotated[CelerySettings, Field(default_factory=CelerySettings)]
    smtp: Annotated[SMTPSettings, Field(default_factory=SMTPSettings)]
    webhook: Annotated[WebhookSettings, Field(default_factory=WebhookSettings)]
    user_url: str = "http://127.0.0.1:8102"  # the user service, for profiles and events
    summary_ttl_s: int = Field(default=30, ge=1, le=3600)
    cache_enabled: bool = True  # off only for the bench ladder's no-cache rungs
    # A worker process holds few connections: it runs one task at a time.
    worker_db_pool_size: int = Field(default=2, ge=1, le=20)

    @property
    def broker_url(self) -> str:
        """Return the Celery broker URL (the service's Redis unless set apart)."""
        return self.celery.broker_url or self.redis.url
