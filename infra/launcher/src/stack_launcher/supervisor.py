"""Start, watch and stop the processes of a stack, each in its own process group."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import httpx

from stack_launcher.net import LOCALHOST, port_accepts
from stack_launcher.procgroup import (
    group_alive,
    log_tail,
    signal_group,
    tree_usage,
    wait_groups_gone,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProcessSpec:
    """How to run one process and how to tell that it is ready.

    `env` is laid over the launcher's own environment. Readiness: with `port` and `ready_path`,
    GET http://127.0.0.1:port/ready_path answers 200; with `port` only, the port accepts TCP;
    with neither, the process counts as ready once started (e.g. a Celery worker).
    """

    name: str
    argv: Sequence[str]
    env: Mapping[str, str] = field(default_factory=dict)
    port: int | None = None
    ready_path: str | None = "/readyz"
    cwd: Path | None = None
    user: str | None = None
    stop_signal: signal.Signals = signal.SIGTERM

    def __post_init__(self) -> None:
        if self.ready_path is not None and self.port is None:
            raise ValueError(f"{self.name}: ready_path {self.ready_path!r} needs a port")

    @property
    def ready_url(self) -> str | None:
        """Return the readiness URL, or None when readiness is not HTTP."""
        if self.port is None or self.ready_path is None:
            return None
        return f"http://{LOCALHOST}:{self.port}/{self.ready_path.lstrip('/')}"


@dataclass(frozen=True)
class ExitReport:
    """A process that exited while nobody asked it to."""

    name: str
    returncode: int
    log_tail: str

    def __str__(self) -> str:
        return f"{self.name} exited unexpectedly with code {self.returncode}\n{self.log_tail}"


@dataclass(frozen=True)
class ProcessStats:
    """Resident memory and process count of one supervised process tree."""

    name: str
    pid: int
    processes: int
    rss_bytes: int


class ProcessError(RuntimeError):
    """A supervised process died or did not become ready in time."""


@dataclass
class _Managed:
    spec: ProcessSpec
    popen: subprocess.Popen[bytes]
    log_path: Path
    expected_exit: bool = False
    reported: bool = False


class Supervisor:
    """Run named processes, wait for their readiness, report crashes, stop them all."""

    def __init__(
        self,
        log_dir: Path,
        *,
        grace_period: float = 10.0,
        watch_interval: float = 0.5,
        on_unexpected_exit: Callable[[ExitReport], None] | None = None,
    ) -> None:
        self.log_dir = log_dir
        self.grace_period = grace_period
        self._watch_interval = watch_interval
        self._on_unexpected_exit = on_unexpected_exit
        self._procs: dict[str, _Managed] = {}
        self._lock = threading.RLock()
        self._exits: list[ExitReport] = []
        self._stop_watching = threading.Event()
        self._watcher: threading.Thread | None = None

    def __enter__(self) -> Supervisor:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop_all()

    # -- starting -------------------------------------------------------------------------

    def start(self, spec: ProcessSpec) -> None:
        """Launch one process in its own process group, logging to log_dir/<name>.log."""
        with self._lock:
            current = self._procs.get(spec.name)
            if current is not None and current.popen.poll() is None:
                raise ProcessError(f"{spec.name} is already running (pid {current.popen.pid})")
            self.log_dir.mkdir(parents=True, exist_ok=True)
            log_path = self.log_dir / f"{spec.name}.log"
            # A restart appends, so the log still shows why the previous run ended.
            mode = "ab" if current is not None else "wb"
            env = {**os.environ, "PYTHONUNBUFFERED": "1", **spec.env}
            with log_path.open(mode) as log_file:
                if current is not None:
                    log_file.write(f"\n--- restarted at {time.ctime()} ---\n".encode())
                    log_file.flush()
                popen = subprocess.Popen(
                    list(spec.argv),
                    env=env,
                    cwd=spec.cwd,
                    stdin=subprocess.DEVNULL,
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    # A new session makes the child the leader of its own process group, so one
                    # killpg reaches every process it forks, and a terminal's Ctrl-C reaches only
                    # us: we decide the order in which things stop.
                    start_new_session=True,
                    user=spec.user,
                )
            self._procs[spec.name] = _Managed(spec, popen, log_path)
            log.info("started %s (pid %d): %s", spec.name, popen.pid, " ".join(spec.argv))
            self._ensure_watcher()

    def start_all(self, specs: Iterable[ProcessSpec], *, timeout: float = 60.0) -> None:
        """Launch all specs at once, then wait until every one of them is ready."""
        names = []
        for spec in specs:
            self.start(spec)
            names.append(spec.name)
        self.wait_ready(names, timeout=timeout)

    def wait_ready(self, names: Iterable[str] | None = None, *, timeout: float = 60.0) -> None:
        """Block until the named processes (default: all) are ready, or raise ProcessError."""
        pending = {name: self._get(name) for name in (self.names if names is None else names)}
        last_seen: dict[str, str] = {}
        deadline = time.monotonic() + timeout
        with httpx.Client(trust_env=False, timeout=1.0) as client:
            while pending:
                for name, managed in list(pending.items()):
                    returncode = managed.popen.poll()
                    if returncode is not None:
                        managed.reported = True  # surfaced by this error, not by the watcher
                        raise ProcessError(
                            f"{name} exited with code {returncode} before it was ready\n"
                            + log_tail(managed.log_path)
                        )
                    ready, seen = _probe(client, managed.spec)
                    last_seen[name] = seen
                    if ready:
                        del pending[name]
                if pending and time.monotonic() > deadline:
                    name, managed = next(iter(pending.items()))
                    raise ProcessError(
                        f"{name} was not ready after {timeout:.0f} s ({last_seen[name]})\n"
                        + log_tail(managed.log_path)
                    )
                if pending:
                    time.sleep(0.1)

    # -- stopping -------------------------------------------------------------------------

    def stop(self, name: str) -> int | None:
        """Stop one process group gracefully (SIGKILL after the grace period)."""
        managed = self._get(name)
        self._stop_many([managed])
        return managed.popen.returncode

    def stop_all(self) -> None:
        """Stop every process group: stop signal, grace period, then SIGKILL."""
        with self._lock:
            managed = list(reversed(self._procs.values()))
        try:
            self._stop_many(managed)
        finally:
            self._stop_watching.set()
            if self._watcher is not None and self._watcher is not threading.current_thread():
                self._watcher.join(timeout=5)
            self._watcher = None
            self._stop_watching.clear()

    def kill(self, name: str, sig: signal.Signals = signal.SIGKILL) -> None:
        """Send a signal to a whole process group; an exit it causes is not reported."""
        managed = self._get(name)
        managed.expected_exit = True
        signal_group(managed.popen.pid, sig)

    def restart(self, name: str, *, timeout: float = 60.0) -> None:
        """Stop one process if it still runs, start it again from its spec and wait for it."""
        managed = self._get(name)
        self._stop_many([managed])
        self.start(managed.spec)
        self.wait_ready([name], timeout=timeout)

    def _stop_many(self, procs: Sequence[_Managed]) -> None:
        for managed in procs:
            managed.expected_exit = True
            if managed.popen.poll() is None:
                # The leader alone gets the stop signal: postgres, uvicorn and celery each shut
                # their own children down in the right order when their main process asks.
                managed.popen.send_signal(managed.spec.stop_signal)
        try:
            wait_groups_gone(_leaders(procs), self.grace_period, resignal=True)
        finally:
            # Also reached on a second Ctrl-C during the grace period: nothing may survive us.
            stragglers = [m for m in procs if group_alive(m.popen.pid)]
            for managed in stragglers:
                log.warning("%s did not stop in time; sending SIGKILL", managed.spec.name)
                signal_group(managed.popen.pid, signal.SIGKILL)
            wait_groups_gone(_leaders(stragglers), 5.0, resignal=False)

    # -- watching and reporting -----------------------------------------------------------

    @property
    def names(self) -> list[str]:
        """Return the names of all processes started so far, in start order."""
        with self._lock:
            return list(self._procs)

    def pid(self, name: str) -> int:
        """Return the pid of a process group leader."""
        return self._get(name).popen.pid

    def log_path(self, name: str) -> Path:
        """Return where a process logs."""
        return self._get(name).log_path

    def is_running(self, name: str) -> bool:
        """Return whether a process is still alive."""
        return self._get(name).popen.poll() is None

    @property
    def unexpected_exits(self) -> list[ExitReport]:
        """Return the processes that exited while nobody asked them to."""
        self._check_exits()
        with self._lock:
            return list(self._exits)

    def raise_for_exits(self) -> None:
        """Raise ProcessError when any process exited unexpectedly."""
        exits = self.unexpected_exits
        if exits:
            raise ProcessError("\n\n".join(str(report) for report in exits))

    def stats(self, names: Iterable[str] | None = None) -> list[ProcessStats]:
        """Return RSS and process count of each running process tree."""
        result = []
        for name in self.names if names is None else names:
            managed = self._get(name)
            if managed.popen.poll() is None:
                processes, rss = tree_usage(managed.popen.pid)
                result.append(ProcessStats(name, managed.popen.pid, processes, rss))
        return result

    def total_rss(self, names: Iterable[str] | None = None) -> int:
        """Return the summed RSS in bytes of the running process trees."""
        return sum(stat.rss_bytes for stat in self.stats(names))

    def process_count(self, names: Iterable[str] | None = None) -> int:
        """Return how many OS processes the running process trees hold."""
        return sum(stat.processes for stat in self.stats(names))

    def _get(self, name: str) -> _Managed:
        with self._lock:
            try:
                return self._procs[name]
            except KeyError:
                known = ", ".join(self._procs) or "none"
                raise KeyError(f"no process named {name!r} (known: {known})") from None

    def _ensure_watcher(self) -> None:
        if self._watcher is None:
            self._watcher = threading.Thread(target=self._watch, name="supervisor", daemon=True)
            self._watcher.start()

    def _watch(self) -> None:
        while not self._stop_watching.wait(self._watch_interval):
            self._check_exits()

    def _check_exits(self) -> None:
        with self._lock:
            fresh = []
            for managed in self._procs.values():
                returncode = managed.popen.poll()
                if returncode is None or managed.expected_exit or managed.reported:
                    continue
                managed.reported = True
                report = ExitReport(managed.spec.name, returncode, log_tail(managed.log_path))
                self._exits.append(report)
                fresh.append(report)
        for report in fresh:
            log.error("%s", report)
            if self._on_unexpected_exit is not None:
                self._on_unexpected_exit(report)


def _probe(client: httpx.Client, spec: ProcessSpec) -> tuple[bool, str]:
    if spec.port is None:
        return True, "started"
    url = spec.ready_url
    if url is None:
        accepts = port_accepts(spec.port)
        return accepts, f"port {spec.port} {'accepts' if accepts else 'refuses'} connections"
    try:
        status = client.get(url).status_code
    except httpx.HTTPError as exc:
        return False, f"GET {url}: {type(exc).__name__}"
    return status == 200, f"GET {url} answered {status}"


def _leaders(procs: Sequence[_Managed]) -> list[tuple[subprocess.Popen[bytes], signal.Signals]]:
    return [(managed.popen, managed.spec.stop_signal) for managed in procs]
