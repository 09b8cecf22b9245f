"""Show what each after-layout service replaced: `make migration-diff [SLICE=identity]`.

A slice pairs the before services an after service took over with that service's code. The
files do not correspond one to one, so each side is concatenated in a fixed order, one header
line per file: before, the services in the order of the published table (e.g. auth, token,
session); after, the package's top-level modules by name, then its sub-packages by path.
Printed first, per slice: files, lines, the `# ANTI-PATTERN (fix N: ...)` markers of the
before side per fix, and what the after layout does instead. Then a unified diff (highlighted
when stdout is a terminal), or with `--html OUT.html` a side-by-side HTML diff.
"""

from __future__ import annotations

import argparse
import difflib
import html
import os
import re
import shutil
import sys
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BEFORE = Path("before/src/before_layout")
# The summary's width: the terminal's, up to 100 columns (100 when piped).
WIDTH = min(100, shutil.get_terminal_size((100, 24)).columns)
MARKER = re.compile(r"#\s*ANTI-PATTERN \(fix (\d+)")


@dataclass(frozen=True)
class Slice:
    name: str
    before: tuple[str, ...]  # modules of before_layout, in the published order
    after: str  # the package folder that replaced them


SLICES = {
    s.name: s
    for s in (
        Slice("identity", ("services/auth", "services/token", "services/session"),
              "services/identity/src/identity_service"),
        Slice("user", ("services/user", "services/profile", "services/prefs", "services/events"),
              "services/user/src/user_service"),
        Slice("jobs", ("services/report", "services/export", "services/pdf", "services/email",
                       "services/webhook"), "services/jobs/src/jobs_service"),
        Slice("core_api", ("services/gateway", "services/gateway_reports", "services/config"),
              "services/core_api/src/core_api"),
        # What every before service carried on its own, and the shared library that replaced it.
        Slice("common", ("db", "peers", "web", "evidence", "errors", "settings", "run"),
              "libs/common/src/service_common"),
    )
}  # fmt: skip

# The six fixes of the published story (seed 004), and where the after layout does each.
FIXES = {
    1: ("merge services", "4 services; core_api verifies JWTs itself and asks each owner once, "
        "concurrently (core_api/peers.py): 2 hops at depth 1 for a dashboard"),
    2: ("async stack", "asyncpg through SQLAlchemy's async engine (service_common/db.py), one "
        "pooled httpx client per process (service_common/http.py), Argon2 in a thread "
        "(service_common/passwords.py)"),
    3: ("background work", "POST /v1/reports stores a queued row and enqueues `reports.render` "
        "(jobs_service/reports/queue.py); a Celery worker renders, mails and calls webhooks "
        "with retries (jobs_service/tasks.py)"),
    4: ("database", "one statement per read with named columns, actors in the same statement, "
        "ix_events_user_created (user_service/migrations/versions/0002_*)"),
    5: ("cache", "Redis cache-aside, dropped after each commit (service_common/cache.py); "
        "limits in Redis (service_common/ratelimit.py); constants instead of a config table"),
    6: ("runtime tuning", "gunicorn + uvicorn workers with uvloop and httptools, sized per core "
        "(service_common/gunicorn_conf.py); orjson (service_common/responses.py)"),
}  # fmt: skip


@dataclass(frozen=True)
class Side:
    title: str
    root: Path  # the folder short names are given from
    files: list[Path]  # relative to the repository
    lines: list[str]  # the concatenation, headers included

    @property
    def code_lines(self) -> int:
        return len(self.lines) - len(self.files)

    def short_names(self) -> list[str]:
        return [str(path.relative_to(self.root)) for path in self.files]


@dataclass(frozen=True)
class SliceDiff:
    slice: Slice
    summary: str
    before: Side
    after: Side


def before_files(slice_: Slice) -> list[Path]:
    """Return the before side's files, in the slice's order."""
    return [BEFORE / f"{module}.py" for module in slice_.before]


def after_files(slice_: Slice, repo: Path) -> list[Path]:
    """Return the after side's Python files: top-level modules first, then sub-packages."""
    root = repo / slice_.after
    found = [p for p in root.rglob("*.py") if "__pycache__" not in p.parts]
    # Empty `__init__.py` files would only add headers.
    found = [p for p in found if p.stat().st_size > 0]
    found.sort(key=lambda p: (len(p.relative_to(root).parts) > 1, p.relative_to(root).parts))
    return [p.relative_to(repo) for p in found]


def concatenate(title: str, root: Path, files: Iterable[Path], repo: Path) -> Side:
    """Join files into one text, each preceded by a header naming it and its length."""
    files = list(files)
    lines: list[str] = []
    for path in files:
        body = (repo / path).read_text(encoding="utf-8").splitlines()
        lines.append(f"# ===== {path} ({len(body)} lines) =====")
        lines.extend(body)
    return Side(title, root, files, lines)


def markers(side: Side, repo: Path) -> dict[int, list[str]]:
    """Return the `# ANTI-PATTERN (fix N` locations of a side, by fix number."""
    found: dict[int, list[str]] = {}
    for path in side.files:
        text = (repo / path).read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(text, start=1):
            match = MARKER.search(line)
            if match:
                found.setdefault(int(match.group(1)), []).append(f"{path.name}:{number}")
    return dict(sorted(found.items()))


def compare(slice_: Slice, repo: Path) -> SliceDiff:
    """Build both sides of a slice and its summary."""
    replaced = ", ".join(m.removeprefix("services/") for m in slice_.before)
    package = Path(slice_.after).name
    before = concatenate(f"before: {replaced}", BEFORE, before_files(slice_), repo)
    after = concatenate(f"after: {package}", Path(slice_.after), after_files(slice_, repo), repo)
    lines = [f"== {slice_.name}: {package} <- {replaced}"]
    for label, side in (("before", before), ("after", after)):
        counts = f"{label:6} {len(side.files)} files, {side.code_lines} lines: "
        lines.append(_wrap(counts + ", ".join(side.short_names())))
    found = markers(before, repo)
    if not found:
        lines.append("  anti-pattern markers: none in these files")
    for number, places in found.items():
        title, replacement = FIXES.get(number, ("?", "not one of the six published fixes"))
        lines.append(_wrap(f"fix {number} ({title}): {len(places)} at {', '.join(places)}"))
        lines.append(_wrap(f"-> {replacement}", indent=6))
    return SliceDiff(slice_, "\n".join(lines), before, after)


def _wrap(text: str, indent: int = 2) -> str:
    return textwrap.fill(
        text, width=WIDTH, initial_indent=" " * indent, subsequent_indent=" " * (indent + 4)
    )


def unified(before: Side, after: Side, context: int) -> str:
    """Return the unified diff of the two concatenations."""
    diff = difflib.unified_diff(
        before.lines, after.lines, before.title, after.title, n=context, lineterm=""
    )
    return "\n".join(diff)


def html_report(diffs: list[SliceDiff], context: int | None) -> str:
    """Return one HTML page with the summary and a side-by-side table per slice."""
    differ = difflib.HtmlDiff(tabsize=4, wrapcolumn=100)
    sections = []
    for diff in diffs:
        table = differ.make_table(
            diff.before.lines,
            diff.after.lines,
            diff.before.title,
            diff.after.title,
            context=context is not None,
            numlines=context or 0,
        )
        heading = html.escape(diff.slice.name)
        sections.append(f"<h2>{heading}</h2><pre>{html.escape(diff.summary)}</pre>{table}")
    return HTML_PAGE.format(body="\n".join(sections))


HTML_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Migration diff: before/ to the after layout</title>
<style>
body {{ font-family: sans-serif; margin: 1.5em; }}
pre {{ background: #f6f8fa; padding: .8em; white-space: pre-wrap; }}
table.diff {{ font-family: monospace; font-size: 12px; border-collapse: collapse; }}
.diff_header {{ background: #e0e0e0; }} td.diff_header {{ text-align: right; }}
.diff_next {{ background: #c0c0c0; }} .diff_add {{ background: #aaffaa; }}
.diff_chg {{ background: #ffff77; }} .diff_sub {{ background: #ffaaaa; }}
</style></head><body>
<h1>Migration diff: before/ to the after layout</h1>
{body}
</body></html>
"""


def show(text: str, *, diff: bool) -> None:
    """Print text, highlighted with rich when stdout is a terminal and rich is installed."""
    if not sys.stdout.isatty():
        print(text)
        return
    try:
        from rich.console import Console
        from rich.syntax import Syntax
    except ImportError:
        print(text)
        return
    console = Console()
    if diff:
        console.print(Syntax(text, "diff", theme="ansi_dark"), soft_wrap=True)
    else:
        console.print(text, style="bold", highlight=False, markup=False, soft_wrap=True)


def main(argv: list[str] | None = None) -> int:
    """Print the summary and diff of each requested slice, or write them as HTML."""
    parser = argparse.ArgumentParser(
        prog="make migration-diff [SLICE=..]",
        description="Before services beside the after service that replaced them.",
    )
    parser.add_argument("slices", nargs="*", metavar="SLICE", help=f"{', '.join(SLICES)}")
    parser.add_argument("--html", type=Path, metavar="OUT.html", help="write a side-by-side diff")
    parser.add_argument("--context", type=int, default=3, help="lines of context (default 3)")
    parser.add_argument("--repo", type=Path, default=REPO, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    unknown = [name for name in args.slices if name not in SLICES]
    if unknown:
        parser.error(f"unknown slice {unknown[0]!r}: choose from {', '.join(SLICES)}")
    diffs = [compare(SLICES[name], args.repo) for name in args.slices or SLICES]
    if args.html:
        args.html.write_text(html_report(diffs, args.context), encoding="utf-8")
        print(f"wrote {args.html}: {', '.join(d.slice.name for d in diffs)}")
        return 0
    for diff in diffs:
        show(diff.summary, diff=False)
        show(unified(diff.before, diff.after, args.context), diff=True)
        print()
    return 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except BrokenPipeError:
        # The reader (`| head`, a pager) left early: not an error; keep Python from
        # complaining again when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise SystemExit(0) from None
