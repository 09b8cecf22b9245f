"""Security tests: one after layout of their own, with its logs to search afterwards.

Their own stack (not the shared pool) because they hammer the login limiter and would lock the
contract suite out of logging in from 127.0.0.1. core_api here trusts X-Forwarded-For from
loopback (as behind a load balancer), so each test can speak from an address of its own.
With RELIABILITY_RESULTS set (make test-reliability), tests write their figures there.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from stack_launcher.stack import Stack

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "faults"))

from fault_support import Figures, own_after_stack  # noqa: E402
from security_support import Account, new_account  # noqa: E402

OUTCOME = pytest.StashKey[str]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    report = yield
    if report.when == "call":
        item.stash[OUTCOME] = report.outcome
    return report


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Iterator[Figures]:
    recorded = Figures("security", request.node.name)
    yield recorded
    recorded.write(request.node.stash.get(OUTCOME, "error"))


@pytest.fixture(scope="session")
def security_stack() -> Iterator[Stack]:
    options = {"CORE_API_TRUSTED_PROXIES": '["127.0.0.1/32"]'}
    with own_after_stack("security", extra_env=options) as stack:
        yield stack


@pytest.fixture(scope="session")
def client(security_stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=security_stack.base_url, timeout=30, trust_env=False) as http:
        yield http


@pytest.fixture(scope="session")
def alice(client: httpx.Client) -> Account:
    return new_account(client, "alice")


@pytest.fixture(scope="session")
def bob(client: httpx.Client) -> Account:
    return new_account(client, "bob")
