"""Settings of the before layout, read from the environment (prefix BEFORE_).

Every peer URL comes from the environment, so tests and the bench can run the 14 services on
free ports; the defaults are the fixed ports of docs/architecture.md (gateway 8000, 8201..8213).
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

SERVICES = (
    "gateway", "auth", "token", "session", "user", "profile", "prefs",
    "events", "report", "export", "pdf", "email", "webhook", "config",
)  # fmt: skip
INTERNAL_SERVICES = SERVICES[1:]
GATEWAY_PORT = 8000
FIRST_INTERNAL_PORT = 8201
DEVELOPMENT_SECRET = "before-development-secret-not-for-real-use"

JWT_ISSUER = "refactor-lab"
JWT_AUDIENCE = "refactor-lab-api"


def default_port(name: str) -> int:
    """Return a service's port under `make up-before`."""
    if name == "gateway":
        return GATEWAY_PORT
    return FIRST_INTERNAL_PORT + INTERNAL_SERVICES.index(name)


def env_name(service: str) -> str:
    """Return the variable that holds a service's base URL, e.g. BEFORE_USER_URL."""
    return f"BEFORE_{service.upper()}_URL"


@dataclass(frozen=True)
class Settings:
    environment: str
    database_url: str
    db_pool_max: int
    jwt_secret: str
    download_secret: str
    webhook_secret: str
    access_ttl_s: int
    refresh_ttl_s: int
    download_ttl_s: int
    smtp_host: str
    smtp_port: int
    webhook_allowed_hosts: frozenset[str]
    login_limit_per_email: int
    login_limit_per_ip: int
    peer_timeout_s: float
    urls: dict[str, str]

    def url(self, service: str) -> str:
        """Return the base URL of a peer service."""
        return self.urls[service]


def _secret(name: str, environment: str) -> str:
    value = os.environ.get(name, "")
    if value:
        return value
    if environment != "development":
        raise RuntimeError(f"{name} must be set outside development")
    return DEVELOPMENT_SECRET


@functools.cache
def get_settings() -> Settings:
    """Read the settings once per process."""
    env = os.environ.get
    environment = env("BEFORE_ENVIRONMENT", "development")
    urls = {
        name: env(env_name(name), f"http://127.0.0.1:{default_port(name)}").rstrip("/")
        for name in SERVICES
    }
    allowed = {host.strip() for host in env("BEFORE_WEBHOOK_ALLOWED_HOSTS", "").split(",")}
    return Settings(
        environment=environment,
        database_url=env("BEFORE_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/before"),
        db_pool_max=int(env("BEFORE_DB_POOL_MAX", "4")),
        jwt_secret=_secret("BEFORE_JWT_SECRET", environment),
        download_secret=_secret("BEFORE_DOWNLOAD_SECRET", environment),
        webhook_secret=_secret("BEFORE_WEBHOOK_SECRET", environment),
        access_ttl_s=int(env("BEFORE_ACCESS_TTL_S", "900")),
        refresh_ttl_s=int(env("BEFORE_REFRESH_TTL_S", str(30 * 24 * 3600))),
        download_ttl_s=int(env("BEFORE_DOWNLOAD_TTL_S", "300")),
        smtp_host=env("BEFORE_SMTP_HOST", "127.0.0.1"),
        smtp_port=int(env("BEFORE_SMTP_PORT", "8025")),
        webhook_allowed_hosts=frozenset(host for host in allowed if host),
        login_limit_per_email=int(env("BEFORE_LOGIN_LIMIT_PER_EMAIL", "5")),
        login_limit_per_ip=int(env("BEFORE_LOGIN_LIMIT_PER_IP", "20")),
        peer_timeout_s=float(env("BEFORE_PEER_TIMEOUT_S", "30")),
        urls=urls,
    )
