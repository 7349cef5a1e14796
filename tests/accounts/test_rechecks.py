"""Password re-checks (password change, deletion, deactivation) are throttled like logins."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.accounts.service import AccountsContext
from tests.conftest import FakeClock, Mailbox
from tests.factories.accounts import PASSWORD, signed_up, unique_email

NEW_PASSWORD = "violet-harbour-lantern-31"
WRONG = "not-my-password-at-all-7"
# Failures answered at full speed (DIARIST_AUTH__ACCOUNT_FREE_FAILURES' default): the next
# one blocks the account for a second, and the one after that is refused while blocked.
FREE = 5

RECHECKS = [
    pytest.param(
        "POST",
        "/api/v1/me/password",
        {"current_password": WRONG, "new_password": NEW_PASSWORD},
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        id="change-password",
    ),
    pytest.param("DELETE", "/api/v1/me", {"password": WRONG}, {"password": PASSWORD}, id="delete"),
    pytest.param(
        "POST", "/api/v1/me/deactivate", {"password": WRONG}, {"password": PASSWORD},
        id="deactivate",
    ),
]  # fmt: skip


async def _account_failures(session: AsyncSession, ctx: AccountsContext, email: str) -> int | None:
    key = ctx.keyring.identifier_digest("account", email)
    failures = await session.scalar(
        text("SELECT failures FROM auth_throttle WHERE kind = 'account' AND key_hash = :key"),
        {"key": key},
    )
    return None if failures is None else int(failures)


@pytest.mark.parametrize(("method", "path", "wrong", "right"), RECHECKS)
async def test_wrong_passwords_back_off_like_logins(
    client: httpx.AsyncClient,
    session: AsyncSession,
    accounts_context: AccountsContext,
    clock: FakeClock,
    method: str,
    path: str,
    wrong: dict[str, Any],
    right: dict[str, Any],
) -> None:
    account = await signed_up(client)
    email, auth = account.email, account.auth
    statuses = []
    for _ in range(20):
        response = await client.request(method, path, json=wrong, headers=auth)
        statuses.append(response.status_code)
        if response.status_code == 429:
            break
    assert statuses == [403] * (FREE + 1) + [429]
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "too_many_attempts"
    assert response.headers["retry-after"] == "1"
    # Each refused request kept its count: the 403s were not rolled back.
    assert await _account_failures(session, accounts_context, email) == FREE + 1

    # While blocked even the right password is not checked, and the password is one secret:
    # guesses through this door slow down the login too.
    assert (await client.request(method, path, json=right, headers=auth)).status_code == 429
    login = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 429

    clock.advance(int(response.headers["retry-after"]))
    done = await client.request(method, path, json=right, headers=auth)
    assert done.status_code == 204, done.text
    assert await _account_failures(session, accounts_context, email) is None


async def test_a_missing_password_is_not_a_guess(client: httpx.AsyncClient) -> None:
    account = await signed_up(client)
    for _ in range(FREE + 3):
        response = await client.request("DELETE", "/api/v1/me", json={}, headers=account.auth)
        assert (response.status_code, response.json()["code"]) == (403, "wrong_password")


async def test_code_rechecks_of_a_code_only_account_back_off_too(
    client: httpx.AsyncClient, mailbox: Mailbox, clock: FakeClock
) -> None:
    email = unique_email()
    await client.post("/api/v1/auth/register", json={"email": email, "name": "Otto"})
    await client.post("/api/v1/auth/otp/request", json={"email": email})
    signed_in = await client.post(
        "/api/v1/auth/otp/login", json={"email": email, "code": mailbox.last_code(email)}
    )
    auth = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
    clock.advance(31)  # a new code may be mailed
    await client.post("/api/v1/auth/otp/request", json={"email": email})
    code = mailbox.last_code(email)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    statuses = []
    for _ in range(FREE + 2):
        guess = await client.request("DELETE", "/api/v1/me", json={"code": wrong}, headers=auth)
        statuses.append(guess.status_code)
    assert statuses == [400] * (FREE + 1) + [429]
    assert guess.headers["retry-after"] == "1"
