"""Command line: `up` runs a layout in the foreground, `infra` runs PostgreSQL and Redis only."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from rich.console import Console
from rich.logging import RichHandler
from rich.table import Table

from stack_launcher.infra import Infra, provide_infra
from stack_launcher.stack import DEFAULT_GATEWAY_PORT, UnknownLayoutError, get_layout, run_stack
from stack_launcher.supervisor import ProcessError, Supervisor

console = Console()

SCALES = ("small", "default", "large", "none")


class _Interrupts:
    """Signal handler for SIGINT and SIGTERM: abort while starting, then just ask to stop."""

    def __init__(self) -> None:
        self.requested = threading.Event()
        self.raising = True

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.requested.set()
        if self.raising:
            # While starting, unwinding is the way out: every context manager stops what it
            # started. Once up, an exception could land mid-print or mid-cleanup, so a flag it is.
            raise KeyboardInterrupt


_interrupts = _Interrupts()


def _wait_until_interrupted(watched: list[Supervisor]) -> int:
    """Block until Ctrl-C or SIGTERM (exit code 0) or until a process dies (exit code 1)."""
    try:
        while not _interrupts.requested.wait(0.5):
            for supervisor in watched:
                supervisor.raise_for_exits()
    except ProcessError as exc:
        console.print(f"[bold red]a process died, stopping the stack[/]\n{exc}")
        return 1
    console.print("\n[bold]stopping...[/]")
    return 0


def _supervisors(infra: Infra) -> list[Supervisor]:
    return [infra.embedded.supervisor] if infra.embedded is not None else []


def cmd_up(args: argparse.Namespace) -> int:
    """Run a layout until interrupted."""
    try:
        get_layout(args.layout)
    except UnknownLayoutError as exc:
        console.print(f"[bold red]{exc}[/]")
        return 2
    workdir = Path(args.workdir) / args.layout
    scale = None if args.scale == "none" else args.scale
    console.print(f"starting the [bold]{args.layout}[/] layout (scale {args.scale})...")
    with run_stack(
        args.layout,
        workdir=workdir,
        gateway_port=args.port,
        scale=scale,
        smtp_latency_ms=args.smtp_latency_ms,
        webhook_latency_ms=args.webhook_latency_ms,
        environment="development",
    ) as stack:
        _interrupts.raising = False
        table = Table(title=f"{args.layout} layout is up", show_header=False)
        table.add_row("API", f"[bold green]{stack.base_url}[/]")
        table.add_row("PostgreSQL", stack.database_dsn)
        table.add_row("Redis", stack.redis_url)
        table.add_row("SMTP sink", f"{stack.config.smtp_host}:{stack.config.smtp_port}")
        table.add_row("mail record", str(stack.smtp_record))
        table.add_row("webhook record", str(stack.webhook_record))
        table.add_row("logs", str(stack.config.log_dir))
        table.add_row("processes", ", ".join(stack.supervisor.names))
        console.print(table)
        console.print("Ctrl-C stops everything.")
        code = _wait_until_interrupted([stack.supervisor, *_supervisors(stack.infra)])
    console.print("stopped.")
    return code


def cmd_infra(args: argparse.Namespace) -> int:
    """Run PostgreSQL and Redis until interrupted."""
    workdir = Path(args.workdir) / "infra"
    with provide_infra(workdir.resolve()) as infra:
        _interrupts.raising = False
        table = Table(title=f"infra is up ({infra.kind})", show_header=False)
        table.add_row("DATABASE_URL", f"[bold green]{infra.admin_dsn}[/]")
        table.add_row("REDIS_URL", f"[bold green]{infra.redis_url}[/]")
        if infra.embedded is not None:
            table.add_row("logs", str(infra.embedded.supervisor.log_dir))
        console.print(table)
        console.print("Ctrl-C stops everything.")
        code = _wait_until_interrupted(_supervisors(infra))
    console.print("stopped.")
    return code


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of `python -m stack_launcher`."""
    parser = argparse.ArgumentParser(prog="python -m stack_launcher", description=__doc__)
    parser.add_argument("--workdir", default=".stack", help="data and logs (default: .stack)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    commands = parser.add_subparsers(dest="command", required=True)

    up = commands.add_parser("up", help="run a layout in the foreground")
    up.add_argument("--layout", default="after", help="after, before, ... (default: after)")
    up.add_argument("--port", type=int, default=DEFAULT_GATEWAY_PORT, help="public gateway port")
    up.add_argument("--scale", choices=SCALES, default="small", help="seed data size")
    up.add_argument("--smtp-latency-ms", type=int, default=150)
    up.add_argument("--webhook-latency-ms", type=int, default=200)
    up.set_defaults(handler=cmd_up)

    infra = commands.add_parser("infra", help="run PostgreSQL and Redis only")
    infra.set_defaults(handler=cmd_infra)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the process exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(message)s",
        handlers=[RichHandler(console=console, show_path=False)],
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # SIGINT too: a shell starting us in the background makes us inherit it as ignored.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _interrupts)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except KeyboardInterrupt:
        # Interrupted while starting: the context managers already stopped everything.
        console.print("interrupted.")
        return 130
