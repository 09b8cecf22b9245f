"""The two layouts the launcher knows: their processes and how their database is prepared.

after: core_api (public), identity, user, jobs and a Celery worker, on gunicorn + uvicorn
workers (uvloop, httptools), sized from the CPU count. before: the 14 services of before/,
registered by `before_layout.stack`. The bench ladder's variants of the after layout (some fixes
switched off by configuration) are built from the same two functions, see `variants.py`.
"""

from __future__ import annotations

import json
import subprocess

from stack_launcher.forked import forked_services
from stack_launcher.stack import StackConfig, register_layout
from stack_launcher.supervisor import ProcessSpec
from stack_launcher.variants import ALL_ON, USER_REVISION_WITHOUT_INDEX, Fixes, register_variants

# Forked services (make new-service) join the after layout from forked_services.toml.
FORKED = forked_services()
AFTER_PACKAGES = ("identity_service", "user_service", "jobs_service", *(f.package for f in FORKED))

# Default ports of docs/architecture.md, used by `make up`; tests and the bench take free ones.
DEFAULT_PORTS = {"identity": 8101, "user": 8102, "jobs": 8103, **{f.name: f.port for f in FORKED}}
# `python -c DOWNGRADE package dsn revision`: one service's schema down to a revision.
DOWNGRADE = "import sys; from service_common.migrations import downgrade; downgrade(*sys.argv[1:])"


def prepare_after(config: StackConfig, fixes: Fixes = ALL_ON) -> None:
    """Migrate each service's schema with its own revisions, then seed the logical data."""
    subprocess.run(
        [
            config.python,
            "-m",
            "service_common.migrate",
            *AFTER_PACKAGES,
            "--url",
            config.database_dsn,
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    if not fixes.index:  # bench ladder: drop ix_events_user_created (its own revision)
        subprocess.run(
            [config.python, "-c", DOWNGRADE, "user_service", config.database_dsn,
             USER_REVISION_WITHOUT_INDEX],
            check=True,
            capture_output=True,
            text=True,
        )  # fmt: skip
    if config.scale:
        from stack_launcher.seed import seed_sync

        seed_sync(config.database_dsn, layout="after", scale=config.scale)


def server_argv(python: str, app: str, port: int, workers: int, *, tuned: bool) -> list[str]:
    """Return the command that serves one ASGI app.

    Tuned (fix 6): uvloop and httptools; several workers under gunicorn's master, a single one
    as a plain uvicorn process (a master over one worker only adds a process; an orchestrator
    restarts a dead one, as Kubernetes runs one worker per container). Untuned: the before
    layout's runtime, uvicorn's asyncio loop and h11 in one process.
    """
    uvicorn = [python, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port)]
    if not tuned:
        return [*uvicorn, "--loop", "asyncio", "--http", "h11", "--workers", "1",
                "--log-level", "warning"]  # fmt: skip
    if workers > 1:
        return [python, "-m", "gunicorn", "-c", "python:service_common.gunicorn_conf", app]
    # gunicorn_conf's settings, for uvicorn alone: no access log, keep-alive 5 s, 30 s to drain.
    return [*uvicorn, "--loop", "uvloop", "--http", "httptools", "--log-level", "warning",
            "--no-access-log", "--timeout-keep-alive", "5", "--timeout-graceful-shutdown", "30",
            "--backlog", "2048"]  # fmt: skip


def after_processes(config: StackConfig, fixes: Fixes = ALL_ON) -> list[ProcessSpec]:
    """Describe the after layout's five processes (four when Celery runs eagerly)."""
    ports = {name: config.port_for(name, default) for name, default in DEFAULT_PORTS.items()}
    ports["core_api"] = config.public_port
    config.ports["core_api"] = config.public_port
    url = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    # core_api does most of the CPU work (it serves warm reads from the owners' views alone), so
    # it gets a worker per core; the owners serve misses and writes, a third of the traffic, and
    # one process each is enough on this machine (docs/results). Tests run one of each.
    web_workers = 1 if config.environment == "test" else config.cpu_count

    def settings(prefix: str, **values: str) -> dict[str, str]:
        base = {
            "ENVIRONMENT": config.environment,
            "LOG_LEVEL": "WARNING",
            "DB__URL": config.database_dsn,
            "REDIS__URL": config.redis_url,
        }
        return {f"{prefix}_{key}": value for key, value in {**base, **values}.items()}

    # Bench ladder switches (variants.py); all on, these add nothing.
    no_cache = {} if fixes.cache else {"CACHE_ENABLED": "false"}
    eager = {} if fixes.celery else {"JOBS_CELERY__EAGER": "true"}

    def web(name: str, package: str, workers: int, env: dict[str, str]) -> ProcessSpec:
        argv = server_argv(
            config.python, f"{package}.main:app", ports[name], workers, tuned=fixes.runtime
        )
        # Its workers' Prometheus files, summed by /metrics; empty at start (gunicorn_conf). The
        # Celery worker gets none: it serves no /metrics, so its counters are read by nobody.
        metrics_dir = config.workdir / "prometheus" / name
        metrics_dir.mkdir(parents=True, exist_ok=True)
        for stale in metrics_dir.glob("*.db"):  # a previous run's; uvicorn would keep them
            stale.unlink()
        return ProcessSpec(
            name,
            argv,
            env=config.env(
                HOST="127.0.0.1",
                PORT=str(ports[name]),
                WEB_CONCURRENCY=str(workers),
                SERVICE_NAME=name,
                PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
                **env,
            ),
            port=ports[name],
        )

    jwt = config.secrets["jwt"]
    receiver = f"127.0.0.1:{config.webhook_port}"
    jobs_settings = settings(
        "JOBS",
        USER_URL=url["user"],
        SMTP__HOST=config.smtp_host,
        SMTP__PORT=str(config.smtp_port),
        WEBHOOK__SECRET=config.secrets["webhook"],
        **no_cache,
    )
    worker = ProcessSpec(
        "jobs_worker",
        [
            config.python,
            "-m",
            "celery",
            "-A",
            "jobs_service.worker",
            "worker",
            "--loglevel=WARNING",
            f"--concurrency={max(2, config.cpu_count)}",
            "--without-gossip",
            "--without-mingle",
        ],  # fmt: skip
        env=config.env(**jobs_settings),
        port=None,
        ready_path=None,
    )
    return [
        web("identity", "identity_service", 1, settings("IDENTITY", JWT__SECRET=jwt)),
        web(
            "user",
            "user_service",
            1,
            settings("USER", WEBHOOK_ALLOWED_HOSTS=json.dumps([receiver]), **no_cache),
        ),
        web("jobs", "jobs_service", 1, {**jobs_settings, **eager}),
        *([worker] if fixes.celery else []),  # eager: the jobs process runs the tasks itself
        web(
            "core_api",
            "core_api",
            web_workers,
            {
                "CORE_API_ENVIRONMENT": config.environment,
                "CORE_API_LOG_LEVEL": "WARNING",
                "CORE_API_REDIS__URL": config.redis_url,
                "CORE_API_JWT__SECRET": jwt,
                "CORE_API_DOWNLOADS__SECRET": config.secrets["download"],
                "CORE_API_IDENTITY_URL": url["identity"],
                "CORE_API_USER_URL": url["user"],
                "CORE_API_JOBS_URL": url["jobs"],
                # Without the cache fix the edge reads no cached views either.
                **({} if fixes.cache else {"CORE_API_VIEWS__ENABLED": "false"}),
            },
        ),
        # Forked services: one worker each, on their own settings prefix.
        *(web(f.name, f.package, 1, settings(f.env_prefix.removesuffix("_"))) for f in FORKED),
    ]


register_layout("after", after_processes, prepare=prepare_after)
register_variants(after_processes, prepare_after)  # after-rung-*, after-no-*: the bench ladder

try:
    from before_layout.stack import prepare as prepare_before
    from before_layout.stack import processes as before_processes
except ImportError:  # the before layout is optional for a fork that only keeps the after one
    pass
else:
    register_layout("before", before_processes, prepare=prepare_before)
