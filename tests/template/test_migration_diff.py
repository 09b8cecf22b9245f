"""tools/migration_diff.py: every slice names its files and markers; bad slices exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "tools" / "migration_diff.py"
sys.path.insert(0, str(SCRIPT.parent))

import migration_diff  # noqa: E402

SLICES = ["identity", "user", "jobs", "core_api", "common"]


def test_the_slices_are_the_published_ones() -> None:
    assert list(migration_diff.SLICES) == SLICES
    replaced = [m for s in migration_diff.SLICES.values() for m in s.before if "services/" in m]
    services = sorted(p.stem for p in (REPO / migration_diff.BEFORE / "services").glob("*.py"))
    assert sorted(m.removeprefix("services/") for m in replaced) == [
        s for s in services if s != "__init__"
    ], "every before service belongs to exactly one slice"


@pytest.mark.parametrize("name", SLICES)
def test_each_slice_prints_summary_and_diff_naming_its_files(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert migration_diff.main([name]) == 0

    out = capsys.readouterr().out
    slice_ = migration_diff.SLICES[name]
    assert out.startswith(f"== {name}: ")
    for module in slice_.before:
        assert f"# ===== {migration_diff.BEFORE / module}.py (" in out
    assert f"{slice_.after}/app.py" in out or f"{slice_.after}/db.py" in out
    assert "\n--- before: " in out and "\n+++ after: " in out
    assert "fix " in out and "-> " in out  # every slice's before side carries markers


def test_marker_counts_match_the_before_code() -> None:
    before = migration_diff.compare(migration_diff.SLICES["jobs"], REPO).before

    found = migration_diff.markers(before, REPO)
    text = "".join((REPO / path).read_text() for path in before.files)
    assert sum(len(places) for places in found.values()) == text.count("# ANTI-PATTERN (fix")
    assert set(found) >= {3, 4}, "jobs holds the in-request work and the SELECT * of reports"


def test_all_slices_by_default_in_order(capsys: pytest.CaptureFixture[str]) -> None:
    migration_diff.main([])

    out = capsys.readouterr().out
    positions = [out.index(f"== {name}: ") for name in SLICES]
    assert positions == sorted(positions)


def test_html_is_a_side_by_side_table_per_slice(tmp_path: Path) -> None:
    target = tmp_path / "diff.html"

    assert migration_diff.main(["identity", "core_api", "--html", str(target)]) == 0

    page = target.read_text()
    assert page.count('<table class="diff"') == 2
    assert "services/auth.py" in page and "core_api &lt;- gateway" in page


def test_an_unknown_slice_is_a_clear_error_with_exit_2() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "billing"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 2
    assert "unknown slice 'billing'" in result.stderr and "identity, user" in result.stderr
    assert result.stdout == ""
