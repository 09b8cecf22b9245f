"""Probes and the error shape for requests no route or body parser accepts."""

from __future__ import annotations

import httpx
import pytest

from .conftest import assert_error

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes(client: httpx.Client, path: str) -> None:
    assert client.get(path).status_code == 200


def test_unknown_route_is_404_in_the_error_shape(client: httpx.Client) -> None:
    assert_error(client.get("/v1/no-such-thing"), 404, "not_found")


def test_malformed_json_is_422(client: httpx.Client) -> None:
    response = client.post(
        "/v1/auth/register", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert_error(response, 422, "validation_error")


def test_every_response_carries_evidence_headers(client: httpx.Client) -> None:
    response = client.get("/healthz")
    for header in ("X-Evidence-DB-Statements", "X-Evidence-Hops", "X-Evidence-Hop-Depth"):
        assert int(response.headers[header]) >= 0
