"""Supervisor: readiness, clear failures with the log tail, kill and restart, group stop, RSS."""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

import psutil
import pytest
from stack_launcher.net import free_port
from stack_launcher.supervisor import ProcessError, ProcessSpec, Supervisor


def http_server(name: str, port: int) -> ProcessSpec:
    """Return a spec for a static HTTP server whose / answers 200."""
    return ProcessSpec(
        name, [sys.executable, "-m", "http.server", str(port)], port=port, ready_path="/"
    )


def python(name: str, code: str, **kwargs: object) -> ProcessSpec:
    """Return a spec running a Python snippet."""
    return ProcessSpec(name, [sys.executable, "-c", code], **kwargs)  # type: ignore[arg-type]


def test_http_and_tcp_readiness(tmp_path: Path) -> None:
    tcp_port = free_port()
    tcp_code = (
        "import socket, time\n"
        f"s = socket.create_server(('127.0.0.1', {tcp_port}))\n"
        "time.sleep(60)\n"
    )
    with Supervisor(tmp_path / "logs") as supervisor:
        supervisor.start_all(
            [
                http_server("web", free_port()),
                python("tcp", tcp_code, port=tcp_port, ready_path=None),
                python("worker", "import time; time.sleep(60)", ready_path=None),
            ],
            timeout=15,
        )
        assert all(supervisor.is_running(name) for name in ("web", "tcp", "worker"))
        stats = {stat.name: stat for stat in supervisor.stats()}
        assert stats["web"].rss_bytes > 1_000_000
        # Two readings of live processes: a page or two may come and go between them.
        summed = sum(stat.rss_bytes for stat in stats.values())
        assert abs(supervisor.total_rss() - summed) <= 1 << 20, (supervisor.total_rss(), summed)
        assert supervisor.process_count() == 3


def test_readiness_timeout_shows_the_log_tail(tmp_path: Path) -> None:
    code = "import time; print('still booting, waiting for the moon'); time.sleep(60)"
    with Supervisor(tmp_path / "logs") as supervisor:
        supervisor.start(python("slow", code, port=free_port(), ready_path="/readyz"))
        with pytest.raises(ProcessError) as error:
            supervisor.wait_ready(timeout=1)
    message = str(error.value)
    assert "slow was not ready after 1 s" in message
    assert "still booting, waiting for the moon" in message
    assert "ConnectError" in message


def test_death_before_readiness_shows_exit_code_and_log_tail(tmp_path: Path) -> None:
    code = "import sys; print('bad config: DB URL missing'); sys.exit(3)"
    with Supervisor(tmp_path / "logs") as supervisor:
        with pytest.raises(ProcessError, match="exited with code 3") as error:
            supervisor.start_all([python("broken", code, port=free_port())], timeout=10)
    assert "bad config: DB URL missing" in str(error.value)


def test_kill_and_restart_one_process(tmp_path: Path) -> None:
    with Supervisor(tmp_path / "logs", watch_interval=0.05) as supervisor:
        supervisor.start_all([http_server("web", free_port())], timeout=15)
        first_pid = supervisor.pid("web")

        supervisor.kill("web", signal.SIGKILL)
        psutil.Process(first_pid).wait(timeout=5)
        assert not supervisor.is_running("web")

        supervisor.restart("web", timeout=15)
        assert supervisor.is_running("web")
        assert supervisor.pid("web") != first_pid
        assert supervisor.unexpected_exits == [], "a requested kill is not a crash"
        assert "restarted at" in supervisor.log_path("web").read_text()


def test_unexpected_exit_is_reported(tmp_path: Path) -> None:
    reports = []
    code = "import time; time.sleep(0.3); print('out of memory, giving up'); raise SystemExit(7)"
    with Supervisor(
        tmp_path / "logs", watch_interval=0.05, on_unexpected_exit=reports.append
    ) as sv:
        sv.start_all([python("flaky", code, ready_path=None)], timeout=5)
        deadline = time.monotonic() + 10
        while not reports and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [(r.name, r.returncode) for r in reports] == [("flaky", 7)]
        assert "out of memory" in reports[0].log_tail
        with pytest.raises(ProcessError, match="flaky exited unexpectedly with code 7"):
            sv.raise_for_exits()


def test_stop_kills_the_whole_group_after_the_grace_period(tmp_path: Path) -> None:
    # The leader exits on SIGTERM but leaves a child that ignores it: only SIGKILL ends it.
    stubborn = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"
    leader = (
        "import subprocess, sys, time\n"
        f"child = subprocess.Popen([sys.executable, '-c', {stubborn!r}])\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    with Supervisor(tmp_path / "logs", grace_period=0.5) as supervisor:
        supervisor.start_all([python("parent", leader, ready_path=None)], timeout=5)
        log = supervisor.log_path("parent")
        deadline = time.monotonic() + 10
        while not log.read_text().strip() and time.monotonic() < deadline:
            time.sleep(0.05)
        child_pid = int(log.read_text().split()[0])
        assert psutil.pid_exists(child_pid)

    child_gone = not psutil.pid_exists(child_pid)
    assert child_gone or psutil.Process(child_pid).status() == psutil.STATUS_ZOMBIE


def test_names_must_be_unique_while_running(tmp_path: Path) -> None:
    with Supervisor(tmp_path / "logs") as supervisor:
        spec = python("once", "import time; time.sleep(60)", ready_path=None)
        supervisor.start(spec)
        with pytest.raises(ProcessError, match="already running"):
            supervisor.start(spec)
        with pytest.raises(KeyError, match="known: once"):
            supervisor.pid("twice")


def test_ready_path_needs_a_port() -> None:
    with pytest.raises(ValueError, match="needs a port"):
        ProcessSpec("web", ["true"])
