"""Process-group helpers: signal and reap whole groups, measure trees, read log tails."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

import psutil  # type: ignore[import-untyped]

LOG_TAIL_LINES = 40


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    """Return the last lines of a log file, or a note when it is missing."""
    try:
        with path.open("rb") as handle:
            handle.seek(max(0, path.stat().st_size - 16_384))
            text = handle.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return f"(no log at {path})"
    tail = "\n".join(text.splitlines()[-lines:])
    return f"--- last {lines} lines of {path} ---\n{tail}"


def tree_usage(pid: int) -> tuple[int, int]:
    """Return (process count, summed RSS bytes) of a process and all its descendants."""
    try:
        root = psutil.Process(pid)
        tree = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0, 0
    count, rss = 0, 0
    for proc in tree:
        try:
            rss += proc.memory_info().rss
            count += 1
        except psutil.NoSuchProcess:
            continue
    return count, rss


def signal_group(pgid: int, sig: signal.Signals) -> None:
    """Send a signal to every process of a group that still exists."""
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


def group_alive(pgid: int) -> bool:
    """Return whether any process of the group is alive (zombies do not count)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # killpg also finds zombies whose parent has not reaped them yet; they hold no resources.
    for proc in psutil.process_iter(["status"]):
        try:
            if proc.info["status"] != psutil.STATUS_ZOMBIE and os.getpgid(proc.pid) == pgid:
                return True
        except (ProcessLookupError, psutil.NoSuchProcess):
            continue
    return False


def wait_groups_gone(
    leaders: Sequence[tuple[subprocess.Popen[bytes], signal.Signals]],
    timeout: float,
    *,
    resignal: bool,
) -> None:
    """Reap group leaders and wait until their groups are empty or the timeout passes.

    With `resignal`, a group whose leader exited but left children gets the leader's stop
    signal once, sent to the whole group.
    """
    deadline = time.monotonic() + timeout
    resignaled: set[int] = set()
    pending = list(leaders)
    while pending and time.monotonic() < deadline:
        for popen, stop_signal in list(pending):
            leader_done = popen.poll() is not None
            if leader_done and not group_alive(popen.pid):
                pending.remove((popen, stop_signal))
            elif leader_done and resignal and popen.pid not in resignaled:
                resignaled.add(popen.pid)
                signal_group(popen.pid, stop_signal)
        if pending:
            time.sleep(0.05)
