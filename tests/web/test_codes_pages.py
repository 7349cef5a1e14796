"""Signing in with an emailed code and setting a new password with one, through the pages;
the mail goes through a real SMTP server the test runs."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from tests.conftest import Mailbox
from tests.factories.accounts import PASSWORD
from tests.web.pages import hidden_fields, signed_up_in_browser, submit


async def _code_page(client: httpx.AsyncClient, start: str, email: str) -> httpx.Response:
    asked = await submit(client, start, start, {"email": email})
    assert asked.status_code == 200, asked.text
    assert "a code is on its way" in asked.text
    return asked


async def test_sign_in_with_an_emailed_code(client: httpx.AsyncClient, mailbox: Mailbox) -> None:
    email = await signed_up_in_browser(client)
    client.cookies.clear()
    asked = await _code_page(client, "/login/code", email)
    wrong = await client.post(
        "/login/code/verify", data={**hidden_fields(asked.text), "code": "000000"}
    )
    assert wrong.status_code in {400, 401}
    assert "diarist_session" not in client.cookies
    code = mailbox.last_code(email)
    signed_in = await client.post(
        "/login/code/verify", data={**hidden_fields(asked.text), "code": code}
    )
    assert signed_in.status_code == 303
    assert (await client.get("/")).status_code == 200


async def test_an_unknown_address_gets_the_same_page_and_no_mail(
    client: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    await _code_page(client, "/login/code", "nobody-here@example.com")
    await _code_page(client, "/password-reset", "nobody-here@example.com")
    assert mailbox.messages == []
    bad = await submit(client, "/login/code", "/login/code", {"email": "not an address"})
    assert bad.status_code == 422


async def test_a_new_password_with_an_emailed_code(
    client: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    email = await signed_up_in_browser(client)
    old_session = client.cookies["diarist_session"]
    client.cookies.clear()
    asked = await _code_page(client, "/password-reset", email)
    fields = {**hidden_fields(asked.text), "code": mailbox.last_code(email)}
    weak = await client.post("/password-reset/confirm", data={**fields, "new_password": "abc"})
    assert weak.status_code == 422
    new_password = "quiet-harbour-lantern-57"
    done = await client.post(
        "/password-reset/confirm", data={**fields, "new_password": new_password}
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/login?reset=1"
    assert "Your password was changed" in (await client.get(done.headers["location"])).text
    client.cookies.set("diarist_session", old_session)
    assert (await client.get("/")).status_code == 303, "every session ended"
    client.cookies.clear()
    old = await submit(client, "/login", "/login", {"email": email, "password": PASSWORD})
    assert old.status_code != 303
    new = await submit(client, "/login", "/login", {"email": email, "password": new_password})
    assert new.status_code == 303


async def test_sign_up_when_addresses_must_be_confirmed(
    client: httpx.AsyncClient, app: FastAPI, mailbox: Mailbox
) -> None:
    app.state.accounts.settings.require_email_verification = True
    try:
        email = "confirm-me@example.com"
        fields = {"name": "Ada", "email": email, "password": PASSWORD}
        made = await submit(client, "/register", "/register", fields)
        assert made.status_code == 200
        assert "confirm confirm-me@example.com" in made.text
        assert "diarist_session" not in client.cookies, "not signed in before confirming"
        confirmed = await client.post(
            "/verify-email/confirm",
            data={**hidden_fields(made.text), "code": mailbox.last_code(email)},
        )
        assert confirmed.status_code == 303
        assert "Your address is confirmed" in (await client.get(confirmed.headers["location"])).text
        signed_in = await submit(client, "/login", "/login", {"email": email, "password": PASSWORD})
        assert signed_in.status_code == 303
    finally:
        app.state.accounts.settings.require_email_verification = False


async def test_a_signed_in_account_confirms_its_address_from_settings(
    client: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    """Reminders are mailed only to a confirmed address: settings say so and confirm it."""
    email = await signed_up_in_browser(client)
    settings = await client.get("/settings")
    assert f"{email} is not confirmed yet" in settings.text
    asked = await submit(client, "/settings", "/settings/confirm-email", {})
    assert asked.status_code == 200, asked.text
    assert "Enter it here to confirm the address" in asked.text
    wrong = await client.post(
        "/verify-email/confirm", data={**hidden_fields(asked.text), "code": "000000"}
    )
    assert wrong.status_code in {400, 401}
    confirmed = await client.post(
        "/verify-email/confirm",
        data={**hidden_fields(asked.text), "code": mailbox.last_code(email)},
    )
    assert confirmed.status_code == 303
    assert confirmed.headers["location"] == "/settings?confirmed=1"
    after = await client.get(confirmed.headers["location"])
    assert "Your address is confirmed." in after.text
    assert "is not confirmed yet" not in after.text
