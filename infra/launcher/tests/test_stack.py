"""run_stack(): layouts, prepare hooks, stand-ins; the CLI's failure modes and clean shutdown."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import httpx
import psutil
import pytest
import redis
from stack_launcher import pg
from stack_launcher.infra import Infra
from stack_launcher.stack import (
    LAYOUTS,
    PREPARE_HOOKS,
    StackConfig,
    UnknownLayoutError,
    register_layout,
    run_stack,
)
from stack_launcher.supervisor import ProcessSpec

InfraEnv = Callable[..., AbstractContextManager[None]]


def test_stand_ins_only_layout(embedded_infra: Infra, tmp_path: Path) -> None:
    with redis.Redis.from_url(embedded_infra.redis_url) as client:
        client.set("stale", "from an earlier run")

    with run_stack("stand-ins-only", workdir=tmp_path, infra=embedded_infra) as stack:
        assert stack.infra is embedded_infra
        assert stack.database_dsn.endswith("/stand_ins_only")
        assert pg.fetchval(stack.database_dsn, "SELECT count(*) FROM pg_stat_statements") >= 0
        assert set(stack.ports) == {"smtp_sink", "webhook_receiver"}
        assert set(stack.secrets) == {"jwt", "download", "webhook"}
        assert all(len(secret) >= 43 for secret in stack.secrets.values())  # 32 random bytes
        assert stack.webhook_secret == stack.secrets["webhook"]
        assert stack.supervisor.names == ["smtp_sink", "webhook_receiver"]
        with redis.Redis.from_url(stack.redis_url) as client:
            assert client.get("stale") is None, "owned Redis starts each run empty"
        receiver = f"http://127.0.0.1:{stack.ports['webhook_receiver']}/healthz"
        assert httpx.get(receiver, trust_env=False).status_code == 200
        pids = [stat.pid for stat in stack.supervisor.stats()]

    assert [pid for pid in pids if psutil.pid_exists(pid)] == []


def test_layout_function_and_async_prepare_hook(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, infra_env: InfraEnv
) -> None:
    prepared: list[StackConfig] = []

    async def prepare(config: StackConfig) -> None:
        await _create_marker_table(config.database_dsn)
        prepared.append(config)

    def processes(config: StackConfig) -> list[ProcessSpec]:
        port = config.public_port
        argv = [config.python, "-m", "http.server", str(port), "--directory", str(config.workdir)]
        env = config.env(GATEWAY_DB_URL=config.database_dsn)
        return [ProcessSpec("gateway", argv, env=env, port=port, ready_path="/")]

    monkeypatch.setattr("stack_launcher.stack.LAYOUTS", dict(LAYOUTS))
    monkeypatch.setattr("stack_launcher.stack.PREPARE_HOOKS", dict(PREPARE_HOOKS))
    register_layout("toy", processes, prepare=prepare)

    with infra_env(STACK_INFRA="embedded"):
        with run_stack("toy", workdir=tmp_path, extra_env={"FEATURE": "on"}) as stack:
            assert stack.infra.kind == "embedded"
            assert stack.base_url == f"http://127.0.0.1:{stack.ports['gateway']}"
            assert httpx.get(stack.base_url, trust_env=False).status_code == 200
            assert pg.fetchval(stack.database_dsn, "SELECT count(*) FROM marker") == 0
            [config] = prepared
            assert config.environment == "test"
            assert config.scale == "small"
            assert config.cpu_count >= 1
            assert config.webhook_base_url.endswith(f":{stack.ports['webhook_receiver']}/hooks")
            gateway = psutil.Process(stack.supervisor.pid("gateway"))
            assert gateway.environ()["FEATURE"] == "on"
            assert gateway.environ()["GATEWAY_DB_URL"] == stack.database_dsn
            assert stack.supervisor.log_path("gateway") == tmp_path.resolve() / "logs/gateway.log"


async def _create_marker_table(dsn: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("CREATE TABLE marker (id int)")
    finally:
        await conn.close()


def test_unknown_layout_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(UnknownLayoutError, match="known layouts: .*stand-ins-only"):
        with run_stack("sideways", workdir=tmp_path):
            pass


def test_cli_refuses_an_unknown_layout(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "stack_launcher", "--workdir", str(tmp_path), "up", "--layout", "x"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "unknown layout 'x'" in result.stdout
    assert "stand-ins-only" in result.stdout


def test_cli_infra_stops_everything_on_sigterm(tmp_path: Path) -> None:
    env = {**os.environ, "STACK_INFRA": "embedded", "COLUMNS": "200"}
    argv = [sys.executable, "-m", "stack_launcher", "--workdir", str(tmp_path), "infra"]
    with subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, env=env) as cli:
        assert cli.stdout is not None
        output = ""
        for line in cli.stdout:
            output += line
            if "Ctrl-C" in line:
                break
        assert "REDIS_URL" in output and "postgresql://postgres@127.0.0.1:" in output
        tree = psutil.Process(cli.pid).children(recursive=True)
        assert len(tree) > 2

        cli.send_signal(signal.SIGTERM)
        assert cli.wait(timeout=30) == 0
        assert "stopped." in cli.stdout.read()

    assert [proc.pid for proc in tree if proc.is_running()] == []
