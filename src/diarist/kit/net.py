"""Outgoing requests to addresses a user gave (a Memos server, a webhook)."""

from __future__ import annotations

import ipaddress
import urllib.parse

import anyio

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
# IPv6 prefixes that carry an IPv4 address in their last 32 bits (RFC 6052 NAT64, RFC 8215
# local NAT64, and the deprecated IPv4-compatible form).
_EMBEDDING = tuple(
    ipaddress.ip_network(prefix) for prefix in ("64:ff9b::/96", "64:ff9b:1::/48", "::/96")
)


def _carried(address: Address) -> list[Address]:
    """The address and every IPv4 address an IPv6 one carries (mapped, 6to4, Teredo, NAT64):
    a route to the inside through a translator is a route to the inside."""
    if isinstance(address, ipaddress.IPv4Address):
        return [address]
    found: list[Address] = [address]
    found += [v4 for v4 in (address.ipv4_mapped, address.sixtofour) if v4 is not None]
    found += list(address.teredo or ())
    if any(address in network for network in _EMBEDDING):
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


def is_public(address: Address) -> bool:
    """A global address that carries no address which is not."""
    return all(carried.is_global for carried in _carried(address))


async def resolves_to_public(url: str) -> bool:
    """Every address the URL's host resolves to is a global one (no loopback, private,
    link-local or reserved address: nothing inside the server's own network)."""
    try:
        host = urllib.parse.urlsplit(url).hostname or ""
        found = await anyio.getaddrinfo(host, None)
    except (OSError, UnicodeError, ValueError):  # unresolvable, or not a host name at all
        return False
    addresses = {ipaddress.ip_address(info[4][0]) for info in found}
    return bool(addresses) and all(is_public(address) for address in addresses)
