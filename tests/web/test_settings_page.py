"""The settings page: preferences and the AI consent, sessions and personal tokens with
revoke, export, and deleting the account; each form refused without its token and checked
by the API's own models."""

from __future__ import annotations

import re

import httpx

from tests.factories.accounts import PASSWORD, login
from tests.web.pages import alert_text, hidden_fields, signed_up_in_browser, submit, written


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _me(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get("/api/v1/me", headers=_bearer(token))


async def test_preferences_and_the_ai_consent(client: httpx.AsyncClient) -> None:
    await signed_up_in_browser(client)
    session = client.cookies["diarist_session"]
    fields = {"name": "Ada L.", "timezone": "Europe/Berlin", "language": "de", "analysis": "1"}
    saved = await submit(client, "/settings", "/settings/profile", {**fields, "remote": "1"})
    assert saved.status_code == 303
    me = (await _me(client, session)).json()
    assert me["name"] == "Ada L."
    assert me["preferences"]["timezone"] == "Europe/Berlin"
    assert me["preferences"]["language"] == "de"
    assert me["preferences"]["ai_processing"]["providers"] == ["local", "openai"]
    withdrawn = await submit(client, "/settings", "/settings/profile", fields)
    assert withdrawn.status_code == 303
    me = (await _me(client, session)).json()
    assert me["preferences"]["ai_processing"]["providers"] == ["local"]
    bad = await submit(
        client, "/settings", "/settings/profile", {**fields, "timezone": "Mars/Base"}
    )
    assert bad.status_code == 422
    assert "IANA" in alert_text(bad.text)
    assert (await _me(client, session)).json()["preferences"]["timezone"] == "Europe/Berlin"


async def test_tokens_and_sessions_are_made_and_revoked_here(client: httpx.AsyncClient) -> None:
    email = await signed_up_in_browser(client)
    made = await submit(
        client, "/settings", "/settings/tokens", {"name": "backup script", "scope": "read"}
    )
    assert made.status_code == 201
    shown = re.search(r'<code class="secret">([^<]+)</code>', made.text)
    assert shown, "the new token is shown once"
    token = shown.group(1)
    assert (await _me(client, token)).status_code == 200
    assert "backup script" in made.text
    token_id = re.search(r"/settings/sessions/([0-9a-f-]+)/revoke\?kind=pat", made.text)
    assert token_id
    other = await login(client, email)  # signed in elsewhere too
    page = await client.get("/settings")
    assert page.text.count('/revoke"') == 1, "the other session, not this browser"
    other_id = re.search(r'/settings/sessions/([0-9a-f-]+)/revoke"', page.text)
    assert other_id
    fields = hidden_fields(page.text)
    revoked = await client.post(f"/settings/sessions/{other_id.group(1)}/revoke", data=fields)
    assert revoked.status_code == 303
    assert (await _me(client, other)).status_code == 401
    gone = await client.post(f"/settings/sessions/{token_id.group(1)}/revoke?kind=pat", data=fields)
    assert gone.status_code == 303
    assert (await _me(client, token)).status_code == 401
    bad = await submit(client, "/settings", "/settings/tokens", {"name": "", "scope": "all"})
    assert bad.status_code == 422
    forged = await client.post("/settings/tokens", data={"name": "x", "csrf": "nope"})
    assert forged.status_code == 403


async def test_export_from_the_page(client: httpx.AsyncClient) -> None:
    await signed_up_in_browser(client)
    await written(client, text="Exported words.")
    response = await client.get("/settings/export", params={"format": "json"})
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    assert "Exported words." in response.text
    markdown = await client.get("/settings/export", params={"format": "markdown"})
    assert markdown.headers["content-type"] == "application/zip"


async def test_deleting_the_account_needs_the_password(client: httpx.AsyncClient) -> None:
    email = await signed_up_in_browser(client)
    session = client.cookies["diarist_session"]
    wrong = await submit(client, "/settings", "/settings/delete", {"password": "not-it-at-all"})
    assert wrong.status_code == 403
    assert 'role="alert"' in wrong.text
    assert "has expired" not in wrong.text, "refused for the password, not the form"
    assert (await _me(client, session)).status_code == 200
    deleted = await submit(client, "/settings", "/settings/delete", {"password": PASSWORD})
    assert deleted.status_code == 303
    assert deleted.headers["location"] == "/register"
    assert (await _me(client, session)).status_code == 401
    again = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert again.status_code == 401


async def test_a_token_lifetime_that_is_no_number_is_refused(client: httpx.AsyncClient) -> None:
    await signed_up_in_browser(client)
    for days in ("seven", "0", "-3", "99999"):
        fields = {"name": "script", "scope": "read", "expires_in_days": days}
        response = await submit(client, "/settings", "/settings/tokens", fields)
        assert response.status_code == 422, days
        assert "expires_in_days" in alert_text(response.text), days
    assert 'class="secret"' not in (await client.get("/settings")).text
