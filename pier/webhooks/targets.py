"""Where webhooks may go: checked when a prediction is created and again on every connection.

A webhook makes Pier itself send a request, so a user could aim it at the operator's own
network (a database admin page, a cloud metadata service). Unless the operator allows private
targets, Pier refuses loopback, private, link-local, shared, reserved and multicast addresses.
The check runs twice: on the URL when the prediction is created (a clear 422 at once), and on
the address actually dialled, inside the HTTP client's connection step, so a name that resolves
to a public address at creation and a private one later (DNS rebinding) is still refused.

Numeric hosts are read the way the system resolver reads them (`inet_aton`): `2130706433`,
`127.1`, `0x7f000001` and `0177.0.0.1` are all 127.0.0.1, and `0` is 0.0.0.0.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
import urllib.parse
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

EVENTS = ("start", "output", "logs", "completed")
LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")
NAT64 = ipaddress.ip_network("64:ff9b::/96")
V4_COMPATIBLE = ipaddress.ip_network("::/96")  # the deprecated ::a.b.c.d form
_NUMBER = re.compile(r"0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class TargetRefused(ValueError):
    """A webhook URL Pier will not call; the message is shown to the user."""


def public_address(ip: IPAddress) -> bool:
    """Whether an address is on the public internet (v4 inside v6 is unwrapped first)."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        elif ip.sixtofour is not None:
            ip = ip.sixtofour
        elif ip in NAT64 or ip in V4_COMPATIBLE:
            ip = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.is_global and not ip.is_multicast


def inet_aton(host: str) -> ipaddress.IPv4Address | None:
    """An IPv4 address in any spelling `inet_aton` accepts (1 to 4 parts, each decimal, octal
    with a leading 0, or hex with 0x; the last part fills the remaining bytes); else None."""
    parts = host.split(".")
    if not 1 <= len(parts) <= 4 or not all(_NUMBER.fullmatch(part) for part in parts):
        return None
    numbers = [_inet_number(part) for part in parts]
    *leading, last = numbers
    if any(n > 0xFF for n in leading) or last >= 1 << (8 * (4 - len(leading))):
        return None
    value = last
    for index, number in enumerate(leading):
        value |= number << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def _inet_number(part: str) -> int:
    base = 16 if part[:2].lower() == "0x" else 8 if part[0] == "0" else 10
    digits = (part[2:] if base == 16 else part).lstrip("0") or "0"
    return int(digits, base) if len(digits) <= 12 else 1 << 32  # longer is out of range anyway


def _host_address(host: str) -> IPAddress | None:
    host = host.strip("[]").split("%")[0]
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return inet_aton(host.rstrip("."))


def check_url(url: Any, allow_private: bool) -> str:
    """The webhook URL if Pier may call it; TargetRefused with the reason otherwise."""
    if not isinstance(url, str) or not url.strip():
        raise TargetRefused("must be an http(s) URL")
    url = url.strip()
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise TargetRefused(f"is not a valid URL: {exc}") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused("must be an http(s) URL with a host, like https://example.com/hook")
    if any(char.isspace() or not char.isprintable() for char in parts.hostname):
        raise TargetRefused("has an invalid host")
    if port == 0:
        raise TargetRefused("has an invalid port")
    if allow_private:
        return url
    host = parts.hostname.rstrip(".").lower()
    address = _host_address(host)
    if (
        host in LOCAL_NAMES
        or host.endswith(".localhost")
        or (address is not None and not public_address(address))
    ):
        raise TargetRefused(
            f"{parts.hostname} is a loopback or private address; this server "
            "does not call those (the operator can allow it with PIER_ALLOW_PRIVATE_WEBHOOKS)"
        )
    return url


def check_events(value: Any) -> list[str] | None:
    """A valid `webhook_events_filter`, in the canonical order; None when not given."""
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TargetRefused(f"must be a list drawn from {list(EVENTS)}")
    unknown = sorted(set(value) - set(EVENTS))
    if unknown:
        raise TargetRefused(f"has unknown events {unknown}; use any of {list(EVENTS)}")
    return [event for event in EVENTS if event in value]


async def resolve(host: str, port: int) -> list[IPAddress]:
    literal = _host_address(host)
    if literal is not None:
        return [literal]
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    found: list[IPAddress] = []
    for info in infos:
        address = _host_address(str(info[4][0]))
        if address is not None and address not in found:
            found.append(address)
    return found


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves names itself and dials only public addresses (TLS still checks the name)."""

    def __init__(self) -> None:
        self.inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            addresses = await resolve(host, port)
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        allowed = [a for a in addresses if public_address(a)]
        if not allowed:
            raise httpcore.ConnectError(f"{host} resolves to no public address; not calling it")
        error: Exception | None = None
        for address in allowed:
            try:
                return await self.inner.connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        assert error is not None
        raise error

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("webhooks do not go to unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    def __init__(self) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=100,
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
            network_backend=GuardedBackend(),
        )


def client(
    allow_private: bool, timeout: float, follow_redirects: bool = False
) -> httpx.AsyncClient:
    """An outgoing HTTP client (webhooks, input downloads) with no proxies from the environment.

    Unless `allow_private`, every connection, redirects included, is refused when the address
    it dials is loopback, private or link-local.
    """
    transport = httpx.AsyncHTTPTransport(trust_env=False) if allow_private else GuardedTransport()
    return httpx.AsyncClient(
        transport=transport,
        timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
        follow_redirects=follow_redirects,
        trust_env=False,
    )
