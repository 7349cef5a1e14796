"""Outgoing requests to addresses a user gave (a Memos server, a webhook)."""

from __future__ import annotations

import ipaddress
import urllib.parse

import anyio


async def resolves_to_public(url: str) -> bool:
    """Every address the URL's host resolves to is a global one (no loopback, private,
    link-local or reserved address: nothing inside the server's own network)."""
    try:
        host = urllib.parse.urlsplit(url).hostname or ""
        found = await anyio.getaddrinfo(host, None)
    except (OSError, UnicodeError, ValueError):  # unresolvable, or not a host name at all
        return False
    addresses = {ipaddress.ip_address(info[4][0]) for info in found}
    return bool(addresses) and all(address.is_global for address in addresses)
