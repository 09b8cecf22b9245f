"""Read the JSON-lines files in which the stand-ins record what they received."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

Record = dict[str, Any]
Predicate = Callable[[Record], bool]


def _any_record(record: Record) -> bool:
    return True


def utc_now() -> str:
    """Return the current UTC time in ISO 8601, as the stand-ins record it."""
    return datetime.now(UTC).isoformat()


def append_record(path: Path, record: Record) -> None:
    """Append one record as a JSON line."""
    # One write call per line keeps concurrent readers from seeing half a record in practice;
    # read_records() still skips a torn last line.
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, sort_keys=True) + "\n")


def read_records(path: Path) -> list[Record]:
    """Return every complete record of a JSON-lines file (none when it does not exist yet)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    records = []
    for line in text.splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            # Only the line being written right now can be incomplete.
            continue
    return records


def _matching(path: Path, predicate: Predicate) -> list[Record]:
    return [record for record in read_records(path) if predicate(record)]


def _timeout_error(path: Path, count: int, found: int, timeout: float) -> TimeoutError:
    total = len(read_records(path))
    return TimeoutError(
        f"{path}: {found} of {count} expected matching records after {timeout:.1f} s "
        f"({total} records in total)"
    )


def wait_for_records(
    path: Path,
    predicate: Predicate = _any_record,
    timeout: float = 10.0,
    *,
    count: int = 1,
) -> list[Record]:
    """Block until at least `count` records match, return the matches, or raise TimeoutError."""
    deadline = time.monotonic() + timeout
    while True:
        found = _matching(path, predicate)
        if len(found) >= count:
            return found
        if time.monotonic() > deadline:
            raise _timeout_error(path, count, len(found), timeout)
        time.sleep(0.05)


async def wait_for_records_async(
    path: Path,
    predicate: Predicate = _any_record,
    timeout: float = 10.0,
    *,
    count: int = 1,
) -> list[Record]:
    """Wait like wait_for_records() without blocking the event loop."""
    deadline = time.monotonic() + timeout
    while True:
        found = _matching(path, predicate)
        if len(found) >= count:
            return found
        if time.monotonic() > deadline:
            raise _timeout_error(path, count, len(found), timeout)
        await asyncio.sleep(0.05)
