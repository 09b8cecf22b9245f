"""Rich progress output: a bar per k6 phase (it knows its duration), one line per result."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

console = Console(highlight=False)
Json = dict[str, Any]


@contextmanager
def phase_progress(description: str, seconds: float) -> Iterator[None]:
    """Show a bar that fills over the phase's scheduled seconds while the body runs."""
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(description, total=max(seconds, 0.1))
        done = threading.Event()

        def tick() -> None:
            started = time.monotonic()
            while not done.wait(0.25):
                progress.update(task, completed=min(time.monotonic() - started, seconds))

        ticker = threading.Thread(target=tick, daemon=True)
        ticker.start()
        try:
            yield
        finally:
            done.set()
            ticker.join()


@contextmanager
def status(message: str) -> Iterator[None]:
    """Show a spinner while the body runs."""
    with console.status(message):
        yield


def _fmt(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def phase_line(layout: str, label: str, phase: Json) -> None:
    """Print one phase's headline numbers."""
    measured = phase["metrics"]
    latency = measured["latency_ms"]
    cpu = phase["loadgen"]["cpu_percent_mean"]
    console.print(
        f"  [bold]{layout}[/] {label}: {_fmt(measured['rps'], 1)} req/s, "
        f"p50 {_fmt(latency['p50'], 1)} ms, p95 {_fmt(latency['p95'], 1)} ms, "
        f"p99 {_fmt(latency['p99'], 1)} ms, errors {measured['error_rate'] * 100:.2f}%, "
        f"dropped {measured['dropped_iterations']}, k6 CPU {_fmt(cpu)}%"
    )


def step_line(layout: str, rate: int, step: Json) -> None:
    """Print one search step with its verdict."""
    verdict = step["verdict"]
    mark = "[green]pass[/]" if verdict["passed"] else "[red]fail[/]"
    failed = [name[:-3] for name, ok in verdict.items() if name.endswith("_ok") and not ok]
    why = f" ({', '.join(failed)})" if failed else ""
    measured = step["metrics"]
    console.print(
        f"  [bold]{layout}[/] step {rate:>5} req/s: {mark}{why} p95 "
        f"{_fmt(measured['latency_ms']['p95'], 1)} ms, errors {measured['error_rate'] * 100:.2f}%, "
        f"dropped {measured['dropped_iterations']}"
    )
