"""Where a webhook may be sent: refusing the addresses of our own network
(SSRF). A URL is checked when it is registered and again before every
attempt, on the addresses the name resolves to at that moment, and the
request then goes to that checked address (not to a second lookup), so a
name that resolves to a public address at registration and to 127.0.0.1
later (DNS rebinding) is refused at send time.

Refused unless settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES (tests with a
local receiver): private (10/8, 172.16/12, 192.168/16, fc00::/7),
loopback, link-local (169.254/16 with the cloud metadata service,
fe80::/10), shared (100.64/10), reserved, multicast and unspecified
addresses, and IPv4 written inside IPv6 (::ffff:127.0.0.1) is judged as IPv4.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from core.errors import Invalid


class UnsafeUrl(Invalid):
    """The URL is not one we send to; nothing was written or sent."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # as written, for the Host header and the TLS certificate
    port: int
    path: str  # path and query
    addresses: tuple[str, ...]  # resolved and checked, in the resolver's order


def refusal(address: str) -> str | None:
    """Why an address is refused, or None."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_private:
        return "a private address"
    if ip.is_reserved or not ip.is_global:
        return "a reserved address"
    return None


def resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise UnsafeUrl(f"The host {host} could not be resolved ({error}).", field="url") from error
    addresses = []
    for _family, _type, _proto, _name, sockaddr in infos:
        if sockaddr[0] not in addresses:
            addresses.append(sockaddr[0])
    if not addresses:
        raise UnsafeUrl(f"The host {host} has no address.", field="url")
    return addresses


def parse(url: str) -> tuple[str, str, int, str]:
    parts = urlsplit((url or "").strip())
    if parts.scheme not in {"http", "https"}:
        raise UnsafeUrl("A webhook URL starts with https:// (or http://).", field="url")
    if parts.scheme == "http" and settings.WEBHOOKS_REQUIRE_HTTPS:
        raise UnsafeUrl("A webhook URL must use https://.", field="url")
    if parts.username or parts.password:
        raise UnsafeUrl("A webhook URL cannot carry a user name or password.", field="url")
    try:
        host, port = parts.hostname, parts.port
    except ValueError as error:
        raise UnsafeUrl(f"The URL's port is not valid ({error}).", field="url") from error
    if not host:
        raise UnsafeUrl("A webhook URL names a host.", field="url")
    port = port or (443 if parts.scheme == "https" else 80)
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return parts.scheme, host, port, path


def check_url(url: str) -> Target:
    """Parse, resolve and check a URL; raise UnsafeUrl if it is refused."""
    scheme, host, port, path = parse(url)
    addresses = resolve(host, port)
    if not settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES:
        for address in addresses:
            reason = refusal(address)
            if reason is not None:
                # One bad address refuses the name: a resolver may hand out
                # any of them on the next lookup.
                raise UnsafeUrl(
                    f"Webhooks are not sent to {host}: it resolves to {address}, {reason}.", field="url"
                )
    return Target(scheme=scheme, host=host, port=port, path=path, addresses=tuple(addresses))
