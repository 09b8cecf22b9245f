"""Refuse webhook URLs that would make our workers call into a private network (SSRF).

A webhook URL is the user's choice of where our servers send requests. Pointed at loopback, a
private range, link-local (169.254.169.254 is the cloud metadata service), multicast or reserved
space, it would turn the delivery worker into a proxy into our own network. So every address the
host stands for must be public: literal IPs are checked as they are, names are resolved and
every address they resolve to is checked (a name with one private address is refused).

What this cannot see: a name that resolves to a public address now and a private one at delivery
time (DNS rebinding). The delivering worker must check the address it actually connects to.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Sequence
from urllib.parse import urlsplit

from service_common.errors import Unprocessable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

DEFAULT_PORTS = {"http": 80, "https": 443}
RESOLVE_TIMEOUT_S = 2.0


async def ensure_public_webhook(url: str, *, allowed_hosts: Sequence[str] = ()) -> None:
    """Raise a 422 unless every address of the URL's host is public, or the host is allowed."""
    parts = urlsplit(url)
    host = parts.hostname
    if parts.scheme not in DEFAULT_PORTS or not host:
        raise Unprocessable("webhook_url must be an http(s) URL with a host")
    try:
        port = parts.port or DEFAULT_PORTS[parts.scheme]
    except ValueError as exc:
        raise Unprocessable("webhook_url has an invalid port") from exc
    if is_allowed_host(host, port, allowed_hosts):
        return
    for address in await resolve(host, port):
        if not is_public_address(address):
            raise Unprocessable(
                f"webhook_url must not point to a private or reserved address ({address})"
            )


def is_allowed_host(host: str, port: int, allowed_hosts: Sequence[str]) -> bool:
    """Tell whether `host:port` matches an allow-list entry (`host` alone allows any port)."""
    for entry in allowed_hosts:
        allowed = urlsplit(f"//{entry.strip()}")
        if allowed.hostname != host.lower():
            continue
        try:
            if allowed.port is None or allowed.port == port:
                return True
        except ValueError:  # a malformed entry allows nothing
            continue
    return False


def is_public_address(address: IPAddress) -> bool:
    """Tell whether an address is globally routable unicast (not ours, not anyone's LAN)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        # ::ffff:127.0.0.1 reaches 127.0.0.1; judge the IPv4 address it carries.
        address = address.ipv4_mapped
    if isinstance(address, ipaddress.IPv6Address) and address.is_site_local:
        return False
    return address.is_global and not (
        address.is_multicast  # is_global is True for most multicast ranges
        or address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_unspecified
    )


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Return the addresses of a host: itself when literal, else what the resolver answers."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(RESOLVE_TIMEOUT_S):
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, TimeoutError) as exc:  # socket.gaierror is an OSError
        raise Unprocessable(f"webhook_url host {host!r} does not resolve") from exc
    # getaddrinfo may append an IPv6 scope ("fe80::1%eth0"); the address is what precedes it.
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
