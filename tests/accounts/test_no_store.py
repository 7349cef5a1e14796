"""Answers that carry a token, or complete the use of a password or code, are never cached."""

from __future__ import annotations

import httpx

from tests.conftest import Mailbox
from tests.factories.accounts import PASSWORD, register, signed_up, unique_email

NEW_PASSWORD = "violet-harbour-lantern-31"


def _not_stored(response: httpx.Response) -> bool:
    headers = (response.headers.get("cache-control"), response.headers.get("pragma"))
    return headers == ("no-store", "no-cache")


async def test_token_answers_are_not_stored(client: httpx.AsyncClient, mailbox: Mailbox) -> None:
    email = await register(client)
    login = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200
    assert _not_stored(login)
    auth = {"Authorization": f"Bearer {login.json()['access_token']}"}

    pat = await client.post("/api/v1/auth/tokens", json={"name": "cli"}, headers=auth)
    assert pat.status_code == 201
    assert _not_stored(pat)

    await client.post("/api/v1/auth/otp/request", json={"email": email})
    code_login = await client.post(
        "/api/v1/auth/otp/login", json={"email": email, "code": mailbox.last_code(email)}
    )
    assert code_login.status_code == 200
    assert _not_stored(code_login)


async def test_code_and_password_completions_are_not_stored(
    client: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    account = await signed_up(client)
    await client.post("/api/v1/auth/verify-email/request", json={"email": account.email})
    verified = await client.post(
        "/api/v1/auth/verify-email",
        json={"email": account.email, "code": mailbox.last_code(account.email)},
    )
    assert verified.status_code == 204
    assert _not_stored(verified)

    changed = await client.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=account.auth,
    )
    assert changed.status_code == 204
    assert _not_stored(changed)

    other = await register(client, unique_email())
    await client.post("/api/v1/auth/password-reset/request", json={"email": other})
    reset = await client.post(
        "/api/v1/auth/password-reset",
        json={"email": other, "code": mailbox.last_code(other), "new_password": NEW_PASSWORD},
    )
    assert reset.status_code == 204
    assert _not_stored(reset)
