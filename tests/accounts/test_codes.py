"""Emailed one-time codes: sign-in, email verification, password reset; and password change."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from diarist.accounts.service import AccountsContext
from tests.conftest import FakeClock, Mailbox
from tests.factories.accounts import PASSWORD, login, register, signed_up, unique_email

NEW_PASSWORD = "violet-harbour-lantern-31"


async def _request(client: httpx.AsyncClient, path: str, email: str) -> None:
    response = await client.post(path, json={"email": email})
    assert response.status_code == 202
    assert response.json()["detail"].startswith("If the address belongs to an account")


async def test_sign_in_with_an_emailed_code(client: httpx.AsyncClient, mailbox: Mailbox) -> None:
    email = await register(client)
    await _request(client, "/api/v1/auth/otp/request", email)
    code = mailbox.last_code(email)
    response = await client.post("/api/v1/auth/otp/login", json={"email": email, "code": code})
    assert response.status_code == 200
    me = await client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {response.json()['access_token']}"}
    )
    assert me.json()["email_verified"] is True

    reused = await client.post("/api/v1/auth/otp/login", json={"email": email, "code": code})
    assert (reused.status_code, reused.json()["code"]) == (400, "invalid_code")


async def test_unknown_address_gets_the_same_answer_and_no_mail(
    client: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    await _request(client, "/api/v1/auth/otp/request", unique_email())
    assert mailbox.messages == []
    response = await client.post(
        "/api/v1/auth/otp/login", json={"email": unique_email(), "code": "123456"}
    )
    assert (response.status_code, response.json()["code"]) == (400, "invalid_code")


async def test_expired_code(client: httpx.AsyncClient, mailbox: Mailbox, clock: FakeClock) -> None:
    email = await register(client)
    await _request(client, "/api/v1/auth/otp/request", email)
    clock.advance(11 * 60)
    response = await client.post(
        "/api/v1/auth/otp/login", json={"email": email, "code": mailbox.last_code(email)}
    )
    assert (response.status_code, response.json()["code"]) == (400, "code_expired")


async def test_code_is_burned_after_too_many_wrong_guesses(
    client: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    email = await register(client)
    await _request(client, "/api/v1/auth/otp/request", email)
    code = mailbox.last_code(email)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        guess = await client.post("/api/v1/auth/otp/login", json={"email": email, "code": wrong})
        assert guess.json()["code"] == "invalid_code"
    right = await client.post("/api/v1/auth/otp/login", json={"email": email, "code": code})
    assert right.json()["code"] == "invalid_code"


@pytest.mark.parametrize("code", ["12345", "abcdef", "1234567", ""])
async def test_malformed_codes_are_422(client: httpx.AsyncClient, code: str) -> None:
    response = await client.post(
        "/api/v1/auth/otp/login", json={"email": unique_email(), "code": code}
    )
    assert (response.status_code, response.json()["code"]) == (422, "validation_error")


async def test_a_new_code_is_not_mailed_twice_within_seconds(
    client: httpx.AsyncClient, mailbox: Mailbox, clock: FakeClock
) -> None:
    email = await register(client)
    await _request(client, "/api/v1/auth/otp/request", email)
    await _request(client, "/api/v1/auth/otp/request", email)
    assert len(mailbox.messages) == 1
    clock.advance(31)
    await _request(client, "/api/v1/auth/otp/request", email)
    old_code, new_code = mailbox.codes(email)
    if old_code != new_code:  # one chance in a million that both draws are equal
        stale = await client.post("/api/v1/auth/otp/login", json={"email": email, "code": old_code})
        assert stale.json()["code"] == "invalid_code", "a newer code replaces the older one"
    fresh = await client.post("/api/v1/auth/otp/login", json={"email": email, "code": new_code})
    assert fresh.status_code == 200


async def test_password_reset_ends_sessions(client: httpx.AsyncClient, mailbox: Mailbox) -> None:
    account = await signed_up(client)
    await _request(client, "/api/v1/auth/password-reset/request", account.email)
    code = mailbox.last_code(account.email)
    weak = await client.post(
        "/api/v1/auth/password-reset",
        json={"email": account.email, "code": code, "new_password": "123456789012"},
    )
    assert weak.json()["code"] == "weak_password"
    done = await client.post(
        "/api/v1/auth/password-reset",
        json={"email": account.email, "code": code, "new_password": NEW_PASSWORD},
    )
    assert done.status_code == 204
    assert (await client.get("/api/v1/me", headers=account.auth)).status_code == 401
    old = await client.post(
        "/api/v1/auth/login", json={"email": account.email, "password": PASSWORD}
    )
    assert old.status_code == 401
    assert await login(client, account.email, NEW_PASSWORD)


async def test_change_password(client: httpx.AsyncClient) -> None:
    account = await signed_up(client)
    other = await login(client, account.email)
    wrong = await client.post(
        "/api/v1/me/password",
        json={"current_password": "not-it-at-all-1", "new_password": NEW_PASSWORD},
        headers=account.auth,
    )
    assert (wrong.status_code, wrong.json()["code"]) == (403, "wrong_password")
    weak = await client.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": "short"},
        headers=account.auth,
    )
    assert weak.json()["code"] == "weak_password"
    changed = await client.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=account.auth,
    )
    assert changed.status_code == 204
    assert (await client.get("/api/v1/me", headers=account.auth)).status_code == 200
    gone = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {other}"})
    assert gone.status_code == 401
    assert await login(client, account.email, NEW_PASSWORD)


async def test_email_verification_when_required(
    app: FastAPI, client: httpx.AsyncClient, mailbox: Mailbox, accounts_context: AccountsContext
) -> None:
    settings = accounts_context.settings.model_copy(update={"require_email_verification": True})
    app.state.accounts = AccountsContext(
        settings=settings,
        keyring=accounts_context.keyring,
        mailer=accounts_context.mailer,
        clock=accounts_context.clock,
    )
    email = await register(client)
    code = mailbox.last_code(email)  # sent at registration
    refused = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert (refused.status_code, refused.json()["code"]) == (403, "email_not_verified")
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    bad = await client.post("/api/v1/auth/verify-email", json={"email": email, "code": wrong})
    assert bad.json()["code"] == "invalid_code"
    ok = await client.post("/api/v1/auth/verify-email", json={"email": email, "code": code})
    assert ok.status_code == 204
    assert await login(client, email)
