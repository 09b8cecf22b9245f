"""Fixtures of the real worker path: a Celery worker subprocess and the peers it talks to.

The worker is `celery -A jobs_service.worker worker` (prefork, two processes) on the test Redis
and database. Its peers are real processes too: the SMTP sink and two webhook receivers of
stack_launcher (one answers 503 to the first deliveries of each path), and a small stand-in for
the user service's internal routes, served by uvicorn on a free port in a thread.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, HTTPException
from jobs_service.app import create_app
from jobs_service.settings import CelerySettings, Settings, SMTPSettings
from redis.asyncio import Redis
from service_common.testing import migrate_database
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from stack_launcher.infra import Infra
from stack_launcher.net import free_port, wait_for_port
from stack_launcher.supervisor import ProcessSpec, Supervisor

FAIL_FIRST = 2
SWEEPER_AFTER_S = 60
WORKER_START_TIMEOUT_S = 60.0


@dataclass
class UserService:
    """In-memory stand-in for the user service's internal routes the worker calls."""

    users: dict[int, dict[str, Any]] = field(default_factory=dict)
    events: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    posted: list[tuple[int, dict[str, Any]]] = field(default_factory=list)

    def add_user(
        self, user_id: int, *, email_notifications: bool, webhook_url: str | None, events: int = 0
    ) -> dict[str, Any]:
        now = datetime.now(UTC)
        self.users[user_id] = {
            "id": user_id,
            "email": f"user{user_id}@example.test",
            "display_name": f"User {user_id}",
            "created_at": now.isoformat(),
            "bio": "",
            "avatar_url": None,
            "prefs": {
                "theme": "system",
                "locale": "en",
                "email_notifications": email_notifications,
                "webhook_url": webhook_url,
            },
        }
        # Newest first, one every 6 hours: a 7-day report covers 28 of them.
        self.events[user_id] = [
            {
                "id": n,
                "kind": "profile.updated",
                "created_at": (now - timedelta(hours=6 * n)).isoformat(),
                "actor": {"id": user_id, "display_name": f"User {user_id}"},
                "payload": {"field": "bio", "n": n},
            }
            for n in range(events)
        ]
        return self.users[user_id]

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/internal/users/{user_id}/me")
        async def me(user_id: int) -> dict[str, Any]:
            if user_id not in self.users:
                raise HTTPException(404, "user not found")
            return self.users[user_id]

        @app.get("/internal/users/{user_id}/events")
        async def events(user_id: int, limit: int = 20, cursor: str | None = None) -> Any:
            start = int(cursor or 0)
            items = self.events.get(user_id, [])[start : start + limit]
            more = start + limit < len(self.events.get(user_id, []))
            return {"items": items, "next_cursor": str(start + limit) if more else None}

        @app.post("/internal/users/{user_id}/events", status_code=201)
        async def record(user_id: int, body: dict[str, Any]) -> dict[str, Any]:
            self.posted.append((user_id, body))
            return {"id": len(self.posted)}

        return app


@dataclass
class Peers:
    users: UserService
    user_url: str
    smtp_port: int
    smtp_record: Path
    webhook_url: str  # a user's webhook_url is this plus /<name>
    webhook_record: Path
    flaky_webhook_url: str  # answers 503 to the first `fail_first` deliveries per path
    flaky_webhook_record: Path
    fail_first: int = FAIL_FIRST


@pytest.fixture(scope="module")
def peers(tmp_path_factory: pytest.TempPathFactory, settings: Settings) -> Iterator[Peers]:
    workdir = tmp_path_factory.mktemp("jobs-worker-peers")
    users = UserService()
    user_port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(users.app(), port=user_port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    smtp_port, hooks_port, flaky_port = free_port(), free_port(), free_port()
    secret = settings.webhook.secret.get_secret_value()
    records = {name: workdir / f"{name}.jsonl" for name in ("smtp", "hooks", "flaky")}
    smtp_argv = [sys.executable, "-m", "stack_launcher.smtp_sink", "--port", str(smtp_port)]
    smtp_argv += ["--latency-ms", "150", "--record", str(records["smtp"])]
    try:
        with Supervisor(workdir / "logs") as supervisor:
            supervisor.start_all(
                [
                    ProcessSpec("smtp_sink", smtp_argv, port=smtp_port, ready_path=None),
                    _receiver("webhooks", hooks_port, records["hooks"], secret, fail_first=0),
                    _receiver("flaky_webhooks", flaky_port, records["flaky"], secret, FAIL_FIRST),
                ],
                timeout=30,
            )
            wait_for_port(user_port)
            yield Peers(
                users=users,
                user_url=f"http://127.0.0.1:{user_port}",
                smtp_port=smtp_port,
                smtp_record=records["smtp"],
                webhook_url=f"http://127.0.0.1:{hooks_port}/hooks",
                webhook_record=records["hooks"],
                flaky_webhook_url=f"http://127.0.0.1:{flaky_port}/hooks",
                flaky_webhook_record=records["flaky"],
            )
    finally:
        server.should_exit = True
        thread.join(timeout=5)


def _receiver(name: str, port: int, record: Path, secret: str, fail_first: int) -> ProcessSpec:
    return ProcessSpec(
        name,
        [sys.executable, "-m", "stack_launcher.webhook_receiver", "--port", str(port)]
        + ["--latency-ms", "200", "--record", str(record), "--fail-first", str(fail_first)],
        env={"WEBHOOK_RECEIVER_SECRET": secret},
        port=port,
        ready_path="/healthz",
    )


@pytest.fixture(scope="module")
def worker_settings(settings: Settings, peers: Peers, infra: Infra) -> Settings:
    # A database of its own: the API's sweeper would publish what other tests left owed.
    dsn = migrate_database(infra.create_database, "jobs_worker_tests", "jobs_service")
    # A short visibility timeout, so a SIGKILLed worker's jobs come back within the test. The
    # sweeper (in the API) waits longer than any test here does, so that test shows the broker
    # bringing them back, not the sweeper; the lost-job test writes rows already an hour old.
    celery = CelerySettings(
        queue=f"{settings.celery.queue}-worker",
        visibility_timeout_s=8,
        retry_backoff_max_s=2,
        redispatch_after_s=SWEEPER_AFTER_S,
        sweep_interval_s=0.5,
    )
    return settings.model_copy(
        update={
            "db": settings.db.model_copy(update={"url": dsn}),
            "celery": celery,
            "smtp": SMTPSettings(port=peers.smtp_port),
            "user_url": peers.user_url,
        }
    )


def worker_env(settings: Settings) -> dict[str, str]:
    """Return the JOBS_* environment that gives a worker process these settings."""
    return {
        "JOBS_ENVIRONMENT": settings.environment.value,
        "JOBS_DB__URL": settings.db.url,
        "JOBS_REDIS__URL": settings.redis.url,
        "JOBS_USER_URL": settings.user_url,
        "JOBS_SMTP__PORT": str(settings.smtp.port),
        "JOBS_WEBHOOK__SECRET": settings.webhook.secret.get_secret_value(),
        "JOBS_CELERY__QUEUE": settings.celery.queue,
        "JOBS_CELERY__VISIBILITY_TIMEOUT_S": str(settings.celery.visibility_timeout_s),
        "JOBS_CELERY__RETRY_BACKOFF_MAX_S": str(settings.celery.retry_backoff_max_s),
    }


class Workers:
    """Celery worker processes of the test, started and killed by name."""

    def __init__(self, supervisor: Supervisor, settings: Settings) -> None:
        self._supervisor = supervisor
        self._settings = settings

    def start(self, name: str) -> None:
        """Start a prefork worker with two processes and wait until it consumes."""
        argv = [sys.executable, "-m", "celery", "-A", "jobs_service.worker", "worker"]
        argv += ["--pool=prefork", "--concurrency=2", "--loglevel=INFO", f"--hostname={name}@%h"]
        # Mingle and gossip only slow a start and a stop down: no task relies on them.
        argv += ["--without-mingle", "--without-gossip", "--without-heartbeat"]
        spec = ProcessSpec(name, argv, env=worker_env(self._settings), ready_path=None)
        self._supervisor.start(spec)
        log_path = self._supervisor.log_path(name)
        deadline = time.monotonic() + WORKER_START_TIMEOUT_S
        while " ready." not in log_path.read_text(errors="replace"):
            if not self._supervisor.is_running(name) or time.monotonic() > deadline:
                raise RuntimeError(f"worker {name} did not start:\n{log_path.read_text()}")
            time.sleep(0.1)

    def kill(self, name: str) -> None:
        """SIGKILL a worker and its pool processes, mid-task or not."""
        self._supervisor.kill(name)


@pytest.fixture(scope="module")
def workers(
    tmp_path_factory: pytest.TempPathFactory, worker_settings: Settings
) -> Iterator[Workers]:
    with Supervisor(tmp_path_factory.mktemp("jobs-workers")) as supervisor:
        running = Workers(supervisor, worker_settings)
        running.start("worker1")
        yield running


@dataclass
class Api:
    """The jobs HTTP service in process, wired to the real worker's queue."""

    client: httpx.AsyncClient
    sessions: async_sessionmaker[AsyncSession]
    redis: Redis


@pytest.fixture(scope="module")
async def api(
    worker_settings: Settings,
    workers: Workers,
    serve: Callable[[FastAPI], AbstractAsyncContextManager[tuple[httpx.AsyncClient, Any]]],
) -> AsyncIterator[Api]:
    async with serve(create_app(worker_settings)) as (client, state):
        yield Api(client, state["db"].sessions, state["redis"])
