"""The machine's side of the evidence: service processes, their memory and CPU, and a sampler
that polls such readings once a second while k6 runs."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import psutil  # type: ignore[import-untyped]

Json = dict[str, Any]

# Supervised programs that are infrastructure or third-party stand-ins, not services of a layout.
INFRA_MARKERS = ("postgres", "redis", "smtp", "receiver", "sink", "mailhog")


def is_service(name: str) -> bool:
    """Tell a layout's service from the infrastructure the launcher also supervises."""
    return not any(marker in name.lower() for marker in INFRA_MARKERS)


def service_of(program: str) -> str:
    """Return the service a supervised program belongs to (a worker counts with its service)."""
    for suffix in ("_worker", "-worker", ".worker"):
        if program.endswith(suffix):
            return program[: -len(suffix)]
    return program


def pid_of(handle: object) -> int | None:
    """Return the pid behind a supervisor entry (an int, a psutil/Popen object, or a wrapper)."""
    if isinstance(handle, int):
        return handle
    for attribute in ("pid", "process"):
        value = getattr(handle, attribute, None)
        if callable(value):
            continue
        if isinstance(value, int):
            return value
        if value is not None:
            return pid_of(value)
    return None


def _tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def process_trees(processes: Mapping[str, object]) -> dict[str, list[psutil.Process]]:
    """Return each supervised program's live process tree, services only."""
    trees: dict[str, list[psutil.Process]] = {}
    for name, handle in processes.items():
        pid = pid_of(handle)
        if pid is not None and is_service(name):
            trees[name] = _tree(pid)
    return trees


def supervised(stack: Any) -> dict[str, object]:
    """Return the supervisor's programs (name -> pid or process handle) of a stack."""
    supervisor = getattr(stack, "supervisor", None)
    processes = getattr(supervisor, "processes", None)
    if processes:
        return dict(processes)
    handles: dict[str, object] = {}
    for name in getattr(supervisor, "names", None) or []:
        try:
            handles[name] = supervisor.pid(name)  # type: ignore[union-attr]
        except Exception:  # a program that already exited has no pid to read
            continue
    return handles


def tree_cpu_s(pid: int) -> float:
    """Return the CPU seconds (user + system) a process tree has used, reaped children included.

    Each live process counts its own time plus that of the children it has reaped, so a
    process that ends between two readings (a recycled worker, a closed PostgreSQL backend)
    still counts, through its parent, in the difference of the two.
    """
    total = 0.0
    for process in _tree(pid):
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


def service_roots(processes: Mapping[str, object]) -> list[int]:
    """Return the root pid of every service program (infrastructure left out)."""
    roots = []
    for name, handle in processes.items():
        pid = pid_of(handle)
        if pid is not None and is_service(name):
            roots.append(pid)
    return roots


def _rss(process: psutil.Process) -> int:
    try:
        return int(process.memory_info().rss)
    except psutil.Error:
        return 0


def memory_snapshot(processes: Mapping[str, object]) -> Json:
    """Return per-service process count and RSS (plus PSS, which counts shared pages once)."""
    services: Json = {}
    for name, tree in process_trees(processes).items():
        pss = 0
        for process in tree:
            try:
                pss += int(getattr(process.memory_full_info(), "pss", 0))
            except psutil.Error:
                continue
        services[name] = {
            "processes": len(tree),
            "rss_bytes": sum(_rss(process) for process in tree),
            "pss_bytes": pss,
        }
    return {
        "services": len({service_of(name) for name in services}),
        "programs": len(services),
        "service_processes": sum(entry["processes"] for entry in services.values()),
        "total_rss_bytes": sum(entry["rss_bytes"] for entry in services.values()),
        "total_pss_bytes": sum(entry["pss_bytes"] for entry in services.values()),
        "per_service": services,
    }


class CpuMeter:
    """CPU percent (100 = one core) of a set of process trees between two readings."""

    def __init__(self, roots: list[int]) -> None:
        self._roots = roots
        self._known: dict[int, psutil.Process] = {}
        self.read()

    def read(self) -> float:
        """Return the CPU percent used since the previous reading."""
        total = 0.0
        for root in self._roots:
            for process in _tree(root):
                known = self._known.setdefault(process.pid, process)
                try:
                    total += known.cpu_percent(interval=None)
                except psutil.Error:
                    self._known.pop(process.pid, None)
        return total


def total_rss(roots: list[int]) -> int:
    """Return the summed RSS of the trees under the given pids."""
    return sum(_rss(process) for root in roots for process in _tree(root))


class Sampler:
    """Call each probe every `interval` seconds on a thread; keep the timestamped readings."""

    def __init__(self, probes: Mapping[str, Callable[[], Any]], interval: float = 1.0) -> None:
        self._probes = dict(probes)
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="bench-sampler", daemon=True)
        self.samples: list[Json] = []
        self._start = 0.0

    def __enter__(self) -> Sampler:
        self._start = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            reading: Json = {"t": round(time.monotonic() - self._start, 2)}
            for name, probe in self._probes.items():
                try:
                    reading[name] = probe()
                except Exception as error:  # a failed reading must not end the phase
                    reading[name] = None
                    reading.setdefault("errors", []).append(f"{name}: {error}")
            self.samples.append(reading)

    def series(self, name: str) -> list[Any]:
        """Return the non-missing readings of one probe."""
        return [sample[name] for sample in self.samples if sample.get(name) is not None]


def spread(values: list[float]) -> Json:
    """Return mean and max of readings (None when there were none)."""
    if not values:
        return {"mean": None, "max": None}
    return {"mean": sum(values) / len(values), "max": max(values)}
