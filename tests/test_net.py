"""Which addresses a user-given URL may reach: global ones, and no IPv6 form that carries an
inside IPv4 address through a translator."""

from __future__ import annotations

import ipaddress

import pytest

from diarist.kit.net import is_public, resolves_to_public


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("169.254.169.254", False),
        ("::1", False),
        ("::ffff:127.0.0.1", False),  # IPv4-mapped
        ("64:ff9b::7f00:1", False),  # NAT64 of 127.0.0.1
        ("64:ff9b:1::a00:1", False),  # local-use NAT64 of 10.0.0.1
        ("2002:7f00:1::", False),  # 6to4 of 127.0.0.1
        ("::127.0.0.1", False),  # IPv4-compatible
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", False),  # Teredo
        ("fd00::1", False),
    ],
)
def test_only_global_addresses_that_carry_no_inside_one_are_public(
    address: str, public: bool
) -> None:
    assert is_public(ipaddress.ip_address(address)) is public


async def test_a_url_resolving_to_loopback_or_to_nothing_is_not_public() -> None:
    assert not await resolves_to_public("http://localhost:8080/hook")
    assert not await resolves_to_public("http://[64:ff9b::7f00:1]/hook")
    assert not await resolves_to_public("http://no-such-host.invalid/hook")
    assert not await resolves_to_public("not a url")
