"""An HTTP client on the running after layout."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from stack_launcher.stack import Stack


@pytest.fixture
def client(after_stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=after_stack.base_url, timeout=30) as http:
        yield http
