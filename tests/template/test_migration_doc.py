"""docs/migration.md: the six fixes in the published order, code quoted as it is in the repo."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOC = (REPO / "docs" / "migration.md").read_text()
FIXES = [
    "merge services",
    "make the stack really async",
    "move work out of the request",
    "fix the database",
    "cache what does not change",
    "runtime tuning, last",
]
CITED_PATH = re.compile(r"`((?:before|services|libs)/[^`\s]+\.py)`")


def test_the_six_fixes_come_in_the_published_order_each_with_a_ladder_slot() -> None:
    headings = re.findall(r"^## Fix (\d): (.+)$", DOC, re.M)

    assert headings == [(str(n), title) for n, title in enumerate(FIXES, start=1)]
    for number in range(1, 7):
        # The ladder fills each slot in place and keeps its marker.
        assert f"<!-- ladder:fix-{number} -->" in DOC


def test_every_quoted_python_snippet_is_in_the_file_cited_before_it() -> None:
    stale = []
    for block in re.finditer(r"```python\n(.*?)```", DOC, re.S):
        cited = CITED_PATH.findall(DOC[: block.start()])
        assert cited, f"no file cited before the snippet at offset {block.start()}"
        source = (REPO / cited[-1]).read_text()
        stale += [
            f"{cited[-1]}: {line.strip()}"
            for line in block.group(1).splitlines()
            if line.strip() and line.strip() not in source
        ]
    assert not stale, "docs/migration.md quotes code that changed:\n" + "\n".join(stale)


def test_every_cited_path_exists() -> None:
    missing = [path for path in CITED_PATH.findall(DOC) if not (REPO / path).exists()]
    assert not missing
