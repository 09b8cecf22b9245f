"""Input fuzzing of core_api's request parsers: whatever the body, never a 500.

Schemathesis generates bodies from the schema; these come from outside it: any JSON value,
objects with the expected keys holding values of any type, and raw bytes that are not JSON at
all, each with a fixed budget and a fixed seed (derandomize).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fault_support import Figures
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from security_support import Account, new_account

pytestmark = pytest.mark.slow

EXAMPLES = 40
BUDGET = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=300)
)
JSON = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=20), children, max_size=5)
    ),
    max_leaves=20,
)

ENDPOINTS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "register": ("POST", "/v1/auth/register", ("email", "password", "display_name")),
    "login": ("POST", "/v1/auth/login", ("email", "password")),
    "refresh": ("POST", "/v1/auth/refresh", ("refresh_token",)),
    "profile": ("PATCH", "/v1/me", ("display_name", "bio", "avatar_url")),
    "prefs": ("PUT", "/v1/me/prefs", ("theme", "locale", "email_notifications", "webhook_url")),
    "reports": ("POST", "/v1/reports", ("kind", "days")),
}
RESULTS: dict[str, Counter[int]] = {}


def shaped(keys: tuple[str, ...]) -> st.SearchStrategy[dict[str, Any]]:
    """Objects with some of the expected keys (and maybe others) holding any JSON value."""
    return st.dictionaries(st.sampled_from(keys) | st.text(max_size=10), JSON, max_size=6)


RAW = st.binary(max_size=400) | st.text(max_size=400).map(str.encode)


@pytest.fixture(scope="module")
def fuzzer(client: httpx.Client) -> Account:
    return new_account(client, "fuzzer")


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_no_body_makes_a_parser_fail_with_500(
    endpoint: str, client: httpx.Client, fuzzer: Account
) -> None:
    method, path, keys = ENDPOINTS[endpoint]
    headers = {**fuzzer.headers, "X-Forwarded-For": fuzzer.ip}
    statuses = RESULTS.setdefault(endpoint, Counter())

    def send(content: bytes, content_type: str) -> None:
        response = client.request(
            method, path, content=content, headers={**headers, "Content-Type": content_type}
        )
        statuses[response.status_code] += 1
        assert response.status_code < 500, (content[:200], response.status_code, response.text)
        if response.status_code >= 400:
            assert set(response.json()) == {"error", "detail"}, response.text

    @BUDGET
    @given(body=JSON | shaped(keys))
    def json_bodies(body: Any) -> None:
        send(httpx.Request("POST", "/", json=body).content, "application/json")

    @BUDGET
    @given(raw=RAW, content_type=st.sampled_from(["application/json", "text/plain", ""]))
    def raw_bodies(raw: bytes, content_type: str) -> None:
        send(raw, content_type)

    json_bodies()
    raw_bodies()


@pytest.fixture(scope="module", autouse=True)
def _publish() -> Iterator[None]:
    yield
    figures = Figures("security", "fuzzing")
    figures.record(
        examples_per_strategy=EXAMPLES,
        strategies=["any JSON value or an object of the expected keys", "raw bytes"],
        cases={name: sum(counts.values()) for name, counts in RESULTS.items()},
        statuses={name: dict(sorted(counts.items())) for name, counts in RESULTS.items()},
    )
    figures.write("see the test report")
