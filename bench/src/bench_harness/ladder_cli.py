"""`python -m bench_harness ladder`: measure the ladder (or re-read a result), report, fill docs."""

from __future__ import annotations

import argparse
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench_harness import ui
from bench_harness.ladder import run_ladder, select
from bench_harness.ladder_docs import MIGRATION_DOC, write_docs
from bench_harness.ladder_report import build_ladder
from bench_harness.report import build
from bench_harness.results import load, merge
from bench_harness.rungs import LADDER, LEAVE_ONE_OUT
from bench_harness.runner import add_measure_arguments, config_from

Json = dict[str, Any]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ladder command's options."""
    keys = ",".join(rung.key for rung in (*LADDER, *LEAVE_ONE_OUT))
    add_measure_arguments(parser)
    parser.add_argument("--rungs", help=f"comma-separated subset of: {keys}")
    parser.add_argument(
        "--no-leave-one-out", action="store_true", help="measure the ladder's rungs only"
    )
    parser.add_argument("--no-report", action="store_true", help="skip the reports at the end")
    parser.add_argument(
        "--cost",
        action="store_true",
        help="also measure each request type's CPU cost on every rung (off: a minute per rung)",
    )
    parser.add_argument(
        "--from",
        dest="sources",
        type=Path,
        nargs="+",
        help="report on these ladder results (their runs pooled as repeats), measure nothing",
    )
    parser.add_argument(
        "--report-dir", type=Path, help="where the report goes (default: beside the result)"
    )
    parser.add_argument(
        "--write-docs", action="store_true", help="fill the ladder slots of docs/migration.md"
    )
    parser.add_argument("--docs", type=Path, default=MIGRATION_DOC, help=argparse.SUPPRESS)


def main(args: argparse.Namespace) -> int:
    """Run the ladder command; return the exit status."""
    errors = 0
    if args.sources:
        paths = list(args.sources)
    else:
        keys = [key.strip() for key in args.rungs.split(",")] if args.rungs else None
        ladder, others = select(keys, leave_one_out=not args.no_leave_one_out)
        config = replace(config_from(args, layout="ladder"), cost=args.cost)
        path, document = run_ladder(config, ladder, others)
        paths = [path]
        errors = len(document["errors"])
    document = pooled(paths)
    if not args.no_report:
        folder = args.report_dir or paths[-1].with_suffix("") / "report"
        details = build(paths, folder) if document["layouts"] else None
        relative = Path(os.path.relpath(details, folder)) if details else None
        ui.console.print(f"ladder report: {build_ladder(document, folder, details=relative)}")
    if args.write_docs:
        ui.console.print(f"filled: {write_docs(document, args.docs)}")
    ui.console.print(f"result: {', '.join(str(path) for path in paths)}")
    return 1 if errors else 0


def pooled(paths: list[Path]) -> Json:
    """Return the ladder results at `paths` as one document, their runs pooled as repeats."""
    documents = [load(path) for path in paths]
    for path, document in zip(paths, documents, strict=True):
        if "ladder" not in document:
            raise SystemExit(f"{path} is not a ladder result (no `ladder` section)")
    method = {(doc["profile"]["name"], doc["scale"], str(doc["fixed_rate"])) for doc in documents}
    if len(method) > 1:
        found = "; ".join(f"profile {p}, scale {s}, fixed load {r}" for p, s, r in sorted(method))
        raise SystemExit(f"these ladder results were measured differently ({found}): not pooled")
    return merge(documents)
