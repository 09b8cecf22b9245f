"""Pin every transitive dependency: copy uv.lock's versions into pyproject's constraint list.

uv.lock stays untracked (it records registry addresses), so the resolved versions live in
`[tool.uv] constraint-dependencies` instead: a fresh clone resolves to the same set. Run it
after changing a dependency: `make setup && .venv/bin/python tools/pin_constraints.py`.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = "# begin: pinned by tools/pin_constraints.py", "# end: pinned"


def locked_versions(lock: Path) -> list[str]:
    """Return `name==version` for every registry package the lock holds at one version, sorted.

    A package locked at two versions (one per range of Python versions) is left to its
    dependents' pins: one `==` for all Pythons would make the other range unsolvable.
    """
    versions: dict[str, set[str]] = {}
    for package in tomllib.loads(lock.read_text())["package"]:
        if "registry" in package.get("source", {}):
            versions.setdefault(package["name"], set()).add(package["version"])
    return sorted(f"{name}=={v.pop()}" for name, v in versions.items() if len(v) == 1)


def main() -> int:
    lock = ROOT / "uv.lock"
    if not lock.exists():
        print("no uv.lock: run `make setup` first", file=sys.stderr)
        return 2
    pins = locked_versions(lock)
    block = "\n".join(
        [BEGIN, "constraint-dependencies = ["] + [f'    "{pin}",' for pin in pins] + ["]", END]
    )
    pyproject = ROOT / "pyproject.toml"
    text = pyproject.read_text()
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
    if not pattern.search(text):
        print(f"pyproject.toml has no '{BEGIN}' block under [tool.uv]", file=sys.stderr)
        return 2
    pyproject.write_text(pattern.sub(block, text))
    print(f"pinned {len(pins)} packages")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
