"""One-time login codes: a wrong guess at an expired code is refused as invalid; only the right
code learns that it has expired."""

from __future__ import annotations

import httpx

from tests.conftest import FakeClock, Mailbox
from tests.factories.accounts import register


def _code(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["code"]


async def test_a_wrong_guess_at_an_expired_code_says_invalid(
    client: httpx.AsyncClient, mailbox: Mailbox, clock: FakeClock
) -> None:
    email = await register(client)
    await client.post("/api/v1/auth/otp/request", json={"email": email})
    code = mailbox.last_code(email)
    clock.advance(3600)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    guess = await client.post("/api/v1/auth/otp/login", json={"email": email, "code": wrong})
    assert _code(guess) == (400, "invalid_code")
    right = await client.post("/api/v1/auth/otp/login", json={"email": email, "code": code})
    assert _code(right) == (400, "code_expired")
