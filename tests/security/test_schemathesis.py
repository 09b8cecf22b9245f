"""Schemathesis against each after service's OpenAPI: no 500, no response outside the schema.

A fixed, reproducible budget: `derandomize` makes Hypothesis draw the same cases on every run,
MAX_EXAMPLES per operation. core_api is reached through the running stack with a valid bearer
token; identity, user and jobs on their internal ports (core_api is their only caller).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from importlib.metadata import version
from typing import Any

import httpx
import pytest
import schemathesis
from fault_support import Figures
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from security_support import Account, new_account
from stack_launcher.stack import Stack

pytestmark = pytest.mark.slow

MAX_EXAMPLES = 25
CHECKS = [not_a_server_error, response_schema_conformance]
SERVICES = ("core_api", "identity", "user", "jobs")

CASES: Counter[str] = Counter()
OPERATIONS: dict[str, int] = {}
FAILURES: dict[str, list[str]] = {}
STATUSES: dict[str, Counter[int]] = {name: Counter() for name in SERVICES}


def _schema(stack: Stack, service: str) -> Any:
    url = f"http://127.0.0.1:{stack.ports[service]}/openapi.json"
    loaded = schemathesis.openapi.from_url(url)
    # Logout would end the session every other case authenticates with; it takes no input to
    # fuzz and is covered by tests/contract/test_auth.py::test_logout_ends_the_session.
    return loaded.exclude(path="/v1/auth/logout")


@pytest.fixture(scope="session")
def fuzz_account(client: httpx.Client) -> Account:
    return new_account(client, "fuzz")


BUDGET = settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    # Explicit examples and generation only: no shrinking (every step is a real request), and
    # failures are collected per operation below instead of stopping at the first.
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


@pytest.mark.parametrize("service", SERVICES)
def test_no_server_error_and_no_schema_violation(
    service: str, security_stack: Stack, fuzz_account: Account
) -> None:
    base_url = f"http://127.0.0.1:{security_stack.ports[service]}"
    headers: dict[str, str] = {}
    if service == "core_api":
        # A valid bearer token, and an address of its own for the login limiter.
        headers = {**fuzz_account.headers, "X-Forwarded-For": fuzz_account.ip}
    failures: dict[str, str] = {}
    operations = 0
    for result in _schema(security_stack, service).get_all_operations():
        operation = result.ok()
        operations += 1

        @BUDGET
        @given(case=operation.as_strategy())
        def check(case: Any) -> None:
            CASES[service] += 1
            response = case.call(base_url=base_url, headers=headers, timeout=30)
            STATUSES[service][response.status_code] += 1
            case.validate_response(response, checks=CHECKS)

        try:
            check()
        except (Exception, BaseExceptionGroup) as exc:  # collected, then reported at once
            failures[operation.label] = str(exc)[:2000]
    OPERATIONS[service] = operations
    FAILURES[service] = sorted(failures)
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())


@pytest.fixture(scope="module", autouse=True)
def _publish_counts() -> Iterator[None]:
    yield
    figures = Figures("security", "schemathesis")
    figures.record(
        schemathesis_version=version("schemathesis"),
        max_examples_per_operation=MAX_EXAMPLES,
        seeded="derandomize=True (the same cases every run)",
        checks=[check.__name__ for check in CHECKS],
        operations=OPERATIONS,
        cases=dict(CASES),
        failing_operations=FAILURES,
        statuses={name: dict(sorted(counts.items())) for name, counts in STATUSES.items()},
    )
    figures.write("see the test report")
