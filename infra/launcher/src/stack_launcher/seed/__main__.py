"""CLI: `python -m stack_launcher.seed --dsn DSN --layout after|before [--scale small] [--seed N]`.

Seeds an empty, migrated database and prints the rows written per table."""

from __future__ import annotations

import argparse
from datetime import datetime

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TimeElapsedColumn
from rich.table import Table

from stack_launcher.seed.layouts import LAYOUTS
from stack_launcher.seed.load import SeedError, seed_sync
from stack_launcher.seed.scales import SCALES


def main(argv: list[str] | None = None) -> int:
    """Seed one database and print what was written; exit 1 with a message on SeedError."""
    parser = argparse.ArgumentParser(prog="python -m stack_launcher.seed", description=__doc__)
    parser.add_argument("--dsn", required=True, help="postgresql://... of an empty, migrated db")
    parser.add_argument("--layout", required=True, choices=LAYOUTS)
    parser.add_argument("--scale", default="small", choices=list(SCALES))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--reference-time",
        type=datetime.fromisoformat,
        default=None,
        help="timezone-aware ISO time the data is relative to (default: today 00:00 UTC)",
    )
    args = parser.parse_args(argv)
    console = Console(stderr=True)

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        try:
            summary = seed_sync(
                args.dsn,
                layout=args.layout,
                scale=args.scale,
                seed=args.seed,
                reference_time=args.reference_time,
                progress=progress,
            )
        except SeedError as error:
            console.print(f"[red]seed failed:[/red] {error}")
            return 1

    table = Table(title=f"{summary.layout} layout, scale {summary.scale}, seed {summary.seed}")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, rows in summary.counts.items():
        table.add_row(name, f"{rows:,}")
    console.print(table)
    stages = ", ".join(f"{stage} {seconds:.1f} s" for stage, seconds in summary.stage_s.items())
    console.print(
        f"seeded in {summary.elapsed_s:.1f} s ({stages}), "
        f"reference time {summary.reference_time.isoformat()}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
