"""Command line: `python -m bench_harness run | report | compare | ladder`."""

from __future__ import annotations

import argparse
from pathlib import Path

from bench_harness import ladder_cli, ui
from bench_harness.compare import compare, table
from bench_harness.report import build
from bench_harness.runner import add_measure_arguments, add_run_arguments, config_from, run


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bench_harness", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    run_cmd = commands.add_parser("run", help="measure one or both layouts into a result file")
    run_cmd.add_argument("--layout", choices=("before", "after", "both"), default="both")
    add_measure_arguments(run_cmd)
    add_run_arguments(run_cmd)
    run_cmd.add_argument("--no-report", action="store_true", help="skip the report at the end")

    report_cmd = commands.add_parser("report", help="Markdown + PNG report from result files")
    report_cmd.add_argument("results", nargs="+", type=Path)
    report_cmd.add_argument("--out", type=Path, help="report folder (default: beside the first)")

    # The fix-by-fix ladder: rungs and leave-one-out variants (ladder_cli.py).
    ladder_cli.add_arguments(commands.add_parser("ladder", help="measure the fix-by-fix ladder"))

    compare_cmd = commands.add_parser("compare", help="exit 1 when B regresses against A")
    compare_cmd.add_argument("a", help="baseline result (path.json or path.json:layout)")
    compare_cmd.add_argument("b", help="candidate result (path.json or path.json:layout)")
    compare_cmd.add_argument("--threshold", type=float, default=0.1)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = _parser().parse_args(argv)
    if args.command == "ladder":
        return ladder_cli.main(args)
    if args.command == "report":
        out = args.out or args.results[0].with_suffix("") / "report"
        report = build(args.results, out)
        ui.console.print(f"report: {report}")
        return 0
    if args.command == "compare":
        groups, regressed = compare(args.a, args.b, args.threshold)
        for title, rows in groups:
            ui.console.print(table(title, rows))
        verdict = "[red]regression beyond[/]" if regressed else "[green]no regression beyond[/]"
        ui.console.print(f"{verdict} {args.threshold * 100:g}% (gated figures)")
        return 1 if regressed else 0
    config = config_from(args, layout=args.layout)
    path, document = run(config)
    if not args.no_report and document["layouts"]:
        report = build([path], path.with_suffix("") / "report")
        ui.console.print(f"report: {report}")
    if "before" in document["summary"] and "after" in document["summary"]:
        groups, _ = compare(f"{path}:before", f"{path}:after", 0.1)
        for title, rows in groups:
            ui.console.print(table(f"before -> after ({title})", rows))
    ui.console.print(f"result: {path}")
    return 1 if document["errors"] else 0
