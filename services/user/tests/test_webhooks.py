"""The webhook SSRF guard on its own: addresses, allow-list entries and resolution."""

from __future__ import annotations

import ipaddress

import pytest
from service_common.errors import Unprocessable
from user_service.webhooks import ensure_public_webhook, is_allowed_host, is_public_address


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "127.8.9.10", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254",
        "100.100.100.200", "0.0.0.0", "224.0.0.1", "239.255.255.250", "240.0.0.1",
        "255.255.255.255", "::1", "::", "fe80::1", "fc00::1", "fd00:ec2::254", "ff02::1",
        "::ffff:127.0.0.1", "::ffff:10.0.0.1", "fec0::1", "2001:db8::1",
    ],
)  # fmt: skip
def test_private_reserved_and_multicast_addresses_are_not_public(address: str) -> None:
    assert not is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700::1111"])
def test_global_unicast_addresses_are_public(address: str) -> None:
    assert is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/x",
        "http://10.0.0.1/x",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:8080/x",
        "http://localhost/x",
        "http://2130706433/x",  # 127.0.0.1 as one decimal number
        "http://0x7f.1/x",  # 127.0.0.1 in inet_aton shorthand
        "http://[::ffff:169.254.169.254]/x",
    ],
)
async def test_urls_reaching_private_addresses_are_refused(url: str) -> None:
    with pytest.raises(Unprocessable, match="private or reserved"):
        await ensure_public_webhook(url)


async def test_public_ip_urls_pass() -> None:
    await ensure_public_webhook("https://93.184.215.14/hooks")
    await ensure_public_webhook("http://[2606:4700::1111]:8443/hooks")


async def test_a_host_that_does_not_resolve_is_refused() -> None:
    with pytest.raises(Unprocessable, match="does not resolve"):
        await ensure_public_webhook("https://no-such-host.invalid/hook")


@pytest.mark.parametrize(
    "url", ["ftp://93.184.215.14/x", "http:///nohost", "http://1.2.3.4:99999/"]
)
async def test_malformed_urls_are_refused(url: str) -> None:
    with pytest.raises(Unprocessable):
        await ensure_public_webhook(url)


async def test_allow_listed_host_and_port_skip_the_check() -> None:
    allowed = ["127.0.0.1:18090"]
    await ensure_public_webhook("http://127.0.0.1:18090/hooks/x", allowed_hosts=allowed)
    with pytest.raises(Unprocessable):
        await ensure_public_webhook("http://127.0.0.1:18091/hooks/x", allowed_hosts=allowed)


@pytest.mark.parametrize(
    ("host", "port", "entries", "expected"),
    [
        ("127.0.0.1", 8090, ["127.0.0.1:8090"], True),
        ("127.0.0.1", 8091, ["127.0.0.1:8090"], False),
        ("localhost", 1234, ["LocalHost"], True),  # no port: any port
        ("::1", 8090, ["[::1]:8090"], True),
        ("127.0.0.1", 8090, ["127.0.0.1:notaport"], False),
        ("127.0.0.1", 8090, [], False),
    ],
)
def test_allow_list_matching(host: str, port: int, entries: list[str], expected: bool) -> None:
    assert is_allowed_host(host, port, entries) is expected


def test_settings_read_allowed_hosts_as_a_list_or_comma_separated(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from user_service.settings import Settings

    monkeypatch.setenv("USER_WEBHOOK_ALLOWED_HOSTS", "127.0.0.1:8090, example.com")
    assert Settings().webhook_allowed_hosts == ["127.0.0.1:8090", "example.com"]
    monkeypatch.setenv("USER_WEBHOOK_ALLOWED_HOSTS", '["127.0.0.1:9000"]')
    assert Settings().webhook_allowed_hosts == ["127.0.0.1:9000"]
