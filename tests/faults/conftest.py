"""Fault tests: each starts its own after layout on its own PostgreSQL and Redis, then breaks it.

They never use the shared `stacks` pool: killing Redis or PostgreSQL would disturb every other
test. With RELIABILITY_RESULTS set (make test-reliability), each test writes its figures there.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# Test modules import their helpers as `fault_support` (a name no other suite uses).
sys.path.insert(0, str(Path(__file__).parent))

from fault_support import Figures  # noqa: E402


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    report = yield
    if report.when == "call":
        item.stash[OUTCOME] = report.outcome
    return report


OUTCOME = pytest.StashKey[str]()


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Iterator[Figures]:
    """The figures of one fault, written as JSON once the test has run."""
    recorded = Figures("faults", request.node.name)
    yield recorded
    recorded.write(request.node.stash.get(OUTCOME, "error"))
