"""Run one layout end to end: infra, a fresh database, stand-ins and the layout's processes.

A layout is a function `(StackConfig) -> list[ProcessSpec]` registered in LAYOUTS, with an
optional prepare hook (migrations, seeding) in PREPARE_HOOKS; `stack_launcher.layouts`, when it
exists, registers the real layouts with register_layout() at import.
"""

from __future__ import annotations

import importlib
import inspect
import os
import secrets
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import redis

from stack_launcher.infra import Infra, provide_infra
from stack_launcher.net import LOCALHOST, free_port
from stack_launcher.pg import run_sync
from stack_launcher.supervisor import ProcessSpec, Supervisor

Environment = Literal["development", "test", "production"]

# Fixed ports of the stand-ins for `up` (docs/architecture.md); tests and the bench take free ones.
SMTP_SINK_PORT = 8025
WEBHOOK_RECEIVER_PORT = 8090
DEFAULT_GATEWAY_PORT = 8000


@dataclass
class StackConfig:
    """Everything a layout function needs to describe its processes."""

    layout: str
    environment: Environment
    workdir: Path
    database_dsn: str
    redis_url: str
    public_port: int
    secrets: dict[str, str]
    smtp_host: str
    smtp_port: int
    webhook_port: int
    smtp_latency_ms: int
    webhook_latency_ms: int
    scale: str | None
    cpu_count: int
    use_default_ports: bool
    extra_env: dict[str, str] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    python: str = sys.executable

    @property
    def webhook_base_url(self) -> str:
        """Return the receiver's base URL; a user's webhook_url is this plus /<anything>."""
        return f"http://{LOCALHOST}:{self.webhook_port}/hooks"

    @property
    def log_dir(self) -> Path:
        """Return where process logs go."""
        return self.workdir / "logs"

    def port_for(self, name: str, default: int | None = None) -> int:
        """Return the port of a named process: its default under `up`, else a free port."""
        if name not in self.ports:
            self.ports[name] = _pick_port(self.use_default_ports, default)
        return self.ports[name]

    def env(self, **overrides: str) -> dict[str, str]:
        """Return the run's extra environment with per-process overrides laid over it."""
        return {**self.extra_env, **overrides}


LayoutFn = Callable[[StackConfig], list[ProcessSpec]]
PrepareFn = Callable[[StackConfig], Awaitable[None] | None]


def _no_services(config: StackConfig) -> list[ProcessSpec]:
    return []


LAYOUTS: dict[str, LayoutFn] = {"stand-ins-only": _no_services}
PREPARE_HOOKS: dict[str, PrepareFn] = {}


def register_layout(name: str, processes: LayoutFn, *, prepare: PrepareFn | None = None) -> None:
    """Make a layout known to run_stack() and the CLI."""
    LAYOUTS[name] = processes
    if prepare is not None:
        PREPARE_HOOKS[name] = prepare


class UnknownLayoutError(ValueError):
    """A layout name that nobody registered."""


def known_layouts() -> dict[str, LayoutFn]:
    """Return the registered layouts, loading stack_launcher.layouts first when it exists."""
    try:
        importlib.import_module("stack_launcher.layouts")
    except ModuleNotFoundError as exc:
        if exc.name != "stack_launcher.layouts":
            raise
    return LAYOUTS


def get_layout(name: str) -> LayoutFn:
    """Return a layout function, or raise UnknownLayoutError naming the known ones."""
    layouts = known_layouts()
    if name not in layouts:
        raise UnknownLayoutError(
            f"unknown layout {name!r}; known layouts: {', '.join(sorted(layouts))}"
        )
    return layouts[name]


@dataclass
class Stack:
    """A running layout and how to reach and inspect it."""

    layout: str
    base_url: str
    database_dsn: str
    redis_url: str
    infra: Infra
    supervisor: Supervisor
    smtp_record: Path
    webhook_record: Path
    webhook_secret: str
    ports: dict[str, int]
    secrets: dict[str, str]
    config: StackConfig


def generate_secrets() -> dict[str, str]:
    """Return fresh per-run keys: JWT signing, download-URL signing, webhook signing."""
    return {name: secrets.token_urlsafe(32) for name in ("jwt", "download", "webhook")}


def stand_in_specs(
    config: StackConfig, smtp_record: Path, webhook_record: Path
) -> list[ProcessSpec]:
    """Return the SMTP sink and webhook receiver processes of a run."""
    webhook_port = config.webhook_port
    return [
        ProcessSpec(
            "smtp_sink",
            [config.python, "-m", "stack_launcher.smtp_sink"]
            + ["--port", str(config.smtp_port), "--latency-ms", str(config.smtp_latency_ms)]
            + ["--record", str(smtp_record)],
            port=config.smtp_port,
            ready_path=None,
        ),
        ProcessSpec(
            "webhook_receiver",
            [config.python, "-m", "stack_launcher.webhook_receiver"]
            + ["--port", str(webhook_port), "--latency-ms", str(config.webhook_latency_ms)]
            + ["--record", str(webhook_record)],
            env={"WEBHOOK_RECEIVER_SECRET": config.secrets["webhook"]},
            port=webhook_port,
            ready_path="/healthz",
        ),
    ]


@contextmanager
def run_stack(
    layout: str,
    *,
    workdir: Path,
    gateway_port: int | None = None,
    scale: str | None = "small",
    smtp_latency_ms: int = 150,
    webhook_latency_ms: int = 200,
    extra_env: dict[str, str] | None = None,
    environment: Environment = "test",
    infra: Infra | None = None,
    database: str | None = None,
    ready_timeout: float = 120.0,
) -> Iterator[Stack]:
    """Run a layout until the block exits; pass `infra` to share servers between runs."""
    processes = get_layout(layout)
    workdir = workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    with ExitStack() as cleanup:
        if infra is None:
            infra = cleanup.enter_context(provide_infra(workdir))
        database_dsn = infra.create_database(database or layout.replace("-", "_"))
        if infra.kind != "external":
            # Servers we own start each run with an empty cache and queue; external ones are
            # somebody else's data.
            with redis.Redis.from_url(infra.redis_url) as client:
                client.flushdb()
        use_default_ports = environment == "development"
        ports: dict[str, int] = {}
        config = StackConfig(
            layout=layout,
            environment=environment,
            workdir=workdir,
            database_dsn=database_dsn,
            redis_url=infra.redis_url,
            public_port=gateway_port or _pick_port(use_default_ports, DEFAULT_GATEWAY_PORT),
            secrets=generate_secrets(),
            smtp_host=LOCALHOST,
            smtp_port=_pick_port(use_default_ports, SMTP_SINK_PORT),
            webhook_port=_pick_port(use_default_ports, WEBHOOK_RECEIVER_PORT),
            smtp_latency_ms=smtp_latency_ms,
            webhook_latency_ms=webhook_latency_ms,
            scale=scale,
            cpu_count=len(os.sched_getaffinity(0)),
            use_default_ports=use_default_ports,
            extra_env=dict(extra_env or {}),
            ports=ports,
        )
        ports.update(smtp_sink=config.smtp_port, webhook_receiver=config.webhook_port)

        records = workdir / "records"
        records.mkdir(exist_ok=True)
        smtp_record, webhook_record = records / "smtp.jsonl", records / "webhooks.jsonl"
        for path in (smtp_record, webhook_record):
            path.unlink(missing_ok=True)

        supervisor = cleanup.enter_context(Supervisor(config.log_dir))
        stand_ins = stand_in_specs(config, smtp_record, webhook_record)
        # The stand-ins boot while the prepare hook migrates and seeds.
        for spec in stand_ins:
            supervisor.start(spec)
        prepare = PREPARE_HOOKS.get(layout)
        if prepare is not None:
            _call_prepare(prepare, config)
        services = processes(config)
        # Whatever ports the layout chose, the Stack lists them all, the public one included.
        ports.update({spec.name: spec.port for spec in services if spec.port is not None})
        supervisor.start_all(services, timeout=ready_timeout)
        supervisor.wait_ready([spec.name for spec in stand_ins], timeout=ready_timeout)
        yield Stack(
            layout=layout,
            base_url=f"http://{LOCALHOST}:{config.public_port}",
            database_dsn=database_dsn,
            redis_url=infra.redis_url,
            infra=infra,
            supervisor=supervisor,
            smtp_record=smtp_record,
            webhook_record=webhook_record,
            webhook_secret=config.secrets["webhook"],
            ports=config.ports,
            secrets=config.secrets,
            config=config,
        )


def _pick_port(use_default: bool, default: int | None) -> int:
    return default if use_default and default is not None else free_port()


def _call_prepare(prepare: PrepareFn, config: StackConfig) -> None:
    result = prepare(config)
    if inspect.isawaitable(result):
        run_sync(_await(result))


async def _await(awaitable: Awaitable[None]) -> None:
    await awaitable
