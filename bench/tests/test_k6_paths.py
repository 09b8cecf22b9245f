"""Paths handed to k6 are absolute: a path opened in a script's init context resolves against
the script's folder, so `make bench`'s relative results folder would point k6 elsewhere."""

from __future__ import annotations

from pathlib import Path

import pytest
from bench_harness.k6run import Phase, Target, _env


@pytest.mark.parametrize("exists", [False, True])
def test_tokens_file_is_passed_as_an_absolute_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exists: bool
) -> None:
    monkeypatch.chdir(tmp_path)
    relative = Path("results") / "run" / "tokens.json"
    if exists:
        relative.parent.mkdir(parents=True)
        relative.write_text("{}")
    target = Target("http://127.0.0.1:1", 5, 5, "pw", tokens_file=relative)
    env = _env(Phase("p", "open", 1, rate=1), target, {"summary": tmp_path / "s.json"})
    passed = Path(env["TOKENS_FILE" if exists else "TOKENS_OUT"])
    assert passed.is_absolute()
    assert passed == tmp_path / relative
