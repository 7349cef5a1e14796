"""Signing in with an OpenID Connect provider, against a real provider the test runs on
loopback (discovery, authorization code with PKCE, an ID token signed with a test key): an
account made, found again, linked by a confirmed address; identities connected and
disconnected in Settings; and every way the round trip can be wrong, refused with nothing
written."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.accounts import oidc
from diarist.accounts.oidc import Flow
from diarist.accounts.service import AccountsContext
from diarist.config import OidcProvider, OidcSettings, Settings
from diarist.db.engine import act_as
from tests.conftest import Mailbox
from tests.factories.accounts import PASSWORD, email_index
from tests.fixtures.oidc_provider import (
    CLIENT_ID,
    CLIENT_SECRET,
    LocalProvider,
    oidc_provider_server,
)
from tests.web.pages import alert_text, browser_user_id, hidden_fields, signed_up_in_browser, submit

CALLBACK = "http://diarist.test/login/oidc/local/callback"


@pytest.fixture(scope="module")
def provider_server() -> Iterator[LocalProvider]:
    with oidc_provider_server() as provider:
        yield provider


@pytest.fixture
def provider(provider_server: LocalProvider, settings: Settings) -> LocalProvider:
    settings.oidc = OidcSettings(
        providers={
            "local": OidcProvider(
                issuer=provider_server.url,
                client_id=CLIENT_ID,
                client_secret=SecretStr(CLIENT_SECRET),
                label="Local ID",
            )
        }
    )
    provider_server.sign_in_as(
        f"sub-{uuid.uuid4().hex}", f"oidc-{uuid.uuid4().hex[:10]}@example.com"
    )
    provider_server.authorizations.clear()
    provider_server.token_requests.clear()
    return provider_server


@pytest.fixture
async def at_provider() -> AsyncIterator[httpx.AsyncClient]:
    """The browser's visits to the provider (a real HTTP client; redirects not followed)."""
    async with httpx.AsyncClient(timeout=10) as http:
        yield http


async def _round_trip(
    client: httpx.AsyncClient, at_provider: httpx.AsyncClient, start: str
) -> httpx.Response:
    """Leave for the provider from `start`, sign in there, come back: the callback's answer."""
    left = await client.get(start)
    assert left.status_code == 303, left.text
    back = await at_provider.get(left.headers["location"])
    assert back.status_code == 302, back.text
    assert back.headers["location"].startswith(CALLBACK)
    return await client.get(back.headers["location"])


async def _signed_in_through_provider(
    client: httpx.AsyncClient, at_provider: httpx.AsyncClient
) -> uuid.UUID:
    came_back = await _round_trip(client, at_provider, "/login/oidc/local")
    assert came_back.status_code == 303, came_back.text
    return await browser_user_id(client)


async def _rows(session: AsyncSession, user_id: uuid.UUID, sql: str) -> list[Any]:
    """What `sql` reads as the user (`:id` is the user's id)."""
    await act_as(session, user_id)
    rows = list((await session.execute(text(sql), {"id": user_id})).all())
    await session.commit()
    return rows


async def _has_account(session: AsyncSession, settings: Settings, email: str) -> bool:
    found = await session.execute(
        text("SELECT 1 FROM auth_find_account(:e)"), {"e": email_index(settings, email)}
    )
    return found.first() is not None


async def test_a_new_person_gets_an_account_and_comes_back_to_it(
    client: httpx.AsyncClient,
    provider: LocalProvider,
    at_provider: httpx.AsyncClient,
    session: AsyncSession,
    settings: Settings,
) -> None:
    login_page = await client.get("/login")
    assert 'href="/login/oidc/local?next=/"' in login_page.text
    assert "Local ID" in login_page.text
    came_back = await _round_trip(client, at_provider, "/login/oidc/local?next=/calendar")
    assert came_back.status_code == 303, came_back.text
    assert came_back.headers["location"] == "/calendar"
    assert (await client.get("/")).status_code == 200
    user_id = await browser_user_id(client)

    # The authorization request carried state, nonce and an S256 challenge; the token
    # request the client's credentials and the verifier (the provider checked both).
    asked = provider.authorizations[-1]
    assert asked["code_challenge_method"] == "S256"
    assert asked["redirect_uri"] == CALLBACK
    exchanged = provider.token_requests[-1]
    assert exchanged["authorization"].startswith("Basic ")
    assert 43 <= len(exchanged["code_verifier"]) <= 128

    [user] = await _rows(
        session,
        user_id,
        "SELECT email_index, auth_provider, auth_provider_id, email_verified_at IS NOT NULL,"
        " password_hash FROM users WHERE id = :id",
    )
    email = email_index(settings, provider.user["email"])
    assert user == (email, "local", provider.user["sub"], True, None)
    [identity] = await _rows(
        session,
        user_id,
        "SELECT provider, issuer, subject, last_used_at IS NOT NULL FROM user_identities"
        " WHERE user_id = :id",
    )
    assert identity == ("local", provider.url, provider.user["sub"], True)
    events = await _rows(
        session,
        user_id,
        "SELECT event_type, details FROM security_events WHERE user_id = :id ORDER BY id",
    )
    assert [event for event, _ in events] == ["register", "identity_linked", "login"]
    assert events[-1][1] == {"method": "oidc", "provider": "local"}

    # Found again by the identity, whatever address the provider gives now.
    client.cookies.clear()
    provider.user["email"] = f"changed-{uuid.uuid4().hex[:8]}@example.com"
    again = await _round_trip(client, at_provider, "/login/oidc/local")
    assert again.status_code == 303
    assert again.headers["location"] == "/"
    assert await browser_user_id(client) == user_id


async def test_a_confirmed_account_with_the_address_is_linked(
    client: httpx.AsyncClient,
    provider: LocalProvider,
    at_provider: httpx.AsyncClient,
    mailbox: Mailbox,
) -> None:
    email = await signed_up_in_browser(client)
    user_id = await browser_user_id(client)
    client.cookies.clear()
    provider.sign_in_as(f"sub-{uuid.uuid4().hex}", email)

    unconfirmed = await _round_trip(client, at_provider, "/login/oidc/local")
    assert unconfirmed.status_code == 409
    assert "never confirmed" in alert_text(unconfirmed.text)
    assert "diarist_session" not in client.cookies

    # An emailed code confirms the address; then the provider's identity joins the account.
    asked = await submit(client, "/login/code", "/login/code", {"email": email})
    code = {**hidden_fields(asked.text), "code": mailbox.last_code(email)}
    assert (await client.post("/login/code/verify", data=code)).status_code == 303
    client.cookies.clear()
    linked = await _round_trip(client, at_provider, "/login/oidc/local")
    assert linked.status_code == 303, linked.text
    assert await browser_user_id(client) == user_id
    settings_page = await client.get("/settings")
    assert "Local ID" in settings_page.text
    assert email in settings_page.text
    # The password still works: linking takes nothing away.
    client.cookies.clear()
    password = await submit(client, "/login", "/login", {"email": email, "password": PASSWORD})
    assert password.status_code == 303


async def test_an_address_the_provider_did_not_confirm_finds_and_makes_nothing(
    client: httpx.AsyncClient,
    provider: LocalProvider,
    at_provider: httpx.AsyncClient,
    settings: Settings,
    session: AsyncSession,
) -> None:
    provider.user["email_verified"] = False
    refused = await _round_trip(client, at_provider, "/login/oidc/local")
    assert refused.status_code == 403
    assert "did not confirm" in alert_text(refused.text)
    email = provider.user["email"]
    assert not await _has_account(session, settings, email)
    # A provider trusted for its addresses (a company directory without the claim).
    settings.oidc.providers["local"].trust_email = True
    del provider.user["email_verified"]
    trusted = await _round_trip(client, at_provider, "/login/oidc/local")
    assert trusted.status_code == 303


async def test_the_address_from_userinfo_when_the_id_token_has_none(
    client: httpx.AsyncClient, provider: LocalProvider, at_provider: httpx.AsyncClient
) -> None:
    provider.email_in_userinfo_only = True
    came_back = await _round_trip(client, at_provider, "/login/oidc/local")
    assert came_back.status_code == 303, came_back.text
    me = await client.get(
        "/api/v1/me", headers={"Authorization": "Bearer " + client.cookies["diarist_session"]}
    )
    assert me.json()["email"] == provider.user["email"]


async def test_a_provider_that_may_not_make_accounts(
    client: httpx.AsyncClient,
    provider: LocalProvider,
    at_provider: httpx.AsyncClient,
    settings: Settings,
) -> None:
    settings.oidc.providers["local"].allow_sign_up = False
    refused = await _round_trip(client, at_provider, "/login/oidc/local")
    assert refused.status_code == 403
    assert "cannot make new ones" in alert_text(refused.text)


@pytest.mark.parametrize(
    "tamper", ["nonce", "audience", "issuer", "expired", "foreign_key", "unsigned"]
)
async def test_an_id_token_that_fails_a_check_signs_nobody_in(
    client: httpx.AsyncClient,
    provider: LocalProvider,
    at_provider: httpx.AsyncClient,
    session: AsyncSession,
    settings: Settings,
    tamper: str,
) -> None:
    provider.tamper = tamper
    refused = await _round_trip(client, at_provider, "/login/oidc/local")
    assert refused.status_code == 401, refused.text
    assert "could not be verified" in alert_text(refused.text)
    assert "diarist_session" not in client.cookies
    assert not await _has_account(session, settings, provider.user["email"])


async def test_callbacks_this_browser_did_not_start_are_refused(
    client: httpx.AsyncClient,
    provider: LocalProvider,
    at_provider: httpx.AsyncClient,
    accounts_context: AccountsContext,
) -> None:
    left = await client.get("/login/oidc/local")
    back = (await at_provider.get(left.headers["location"])).headers["location"]
    path = back.removeprefix("http://diarist.test")
    code = httpx.URL(back).params["code"]

    async def refused(url: str, cookie: str | None = None) -> httpx.Response:
        flow = client.cookies.get("diarist_oidc")
        if cookie is not None:
            client.cookies.set("diarist_oidc", cookie)
        answer = await client.get(url)
        if flow is not None:
            client.cookies.set("diarist_oidc", flow)
        return answer

    wrong_state = await refused(f"/login/oidc/local/callback?code={code}&state=forged")
    assert wrong_state.status_code == 400
    assert "Start again" in alert_text(wrong_state.text)
    assert (await refused(path, cookie="forged.value")).status_code == 400
    other_name = path.replace("/oidc/local/", "/oidc/other/")
    assert (await refused(other_name)).status_code == 400
    state = httpx.URL(back).params["state"]
    assert (await refused(f"/login/oidc/local/callback?state={state}")).status_code == 400
    old = Flow("local", state, "n", "v" * 64, "/", False, time.time() - 3600)
    assert (await refused(path, cookie=old.sealed(accounts_context.keyring))).status_code == 400
    client.cookies.delete("diarist_oidc")
    assert (await client.get(path)).status_code == 400  # no flow at all
    assert "diarist_session" not in client.cookies


async def test_a_code_is_used_once_and_a_cancelled_sign_in_says_so(
    client: httpx.AsyncClient, provider: LocalProvider, at_provider: httpx.AsyncClient
) -> None:
    left = await client.get("/login/oidc/local")
    flow = client.cookies["diarist_oidc"]
    back = (await at_provider.get(left.headers["location"])).headers["location"]
    assert (await client.get(back)).status_code == 303
    client.cookies.clear()
    client.cookies.set("diarist_oidc", flow)  # the same flow and code again
    replayed = await client.get(back)
    assert replayed.status_code == 401, replayed.text
    provider.deny = True
    client.cookies.clear()
    cancelled = await _round_trip(client, at_provider, "/login/oidc/local")
    assert cancelled.status_code == 401
    assert "cancelled at the provider" in alert_text(cancelled.text)


async def test_an_unknown_or_unreachable_provider(
    client: httpx.AsyncClient, provider: LocalProvider, settings: Settings
) -> None:
    unknown = await client.get("/login/oidc/nobody")
    assert unknown.status_code == 404
    assert "no sign-in provider of this name" in alert_text(unknown.text)
    settings.oidc.providers["down"] = OidcProvider(issuer="http://127.0.0.1:9", client_id="x")
    down = await client.get("/login/oidc/down")
    assert down.status_code == 502
    assert "could not be reached" in alert_text(down.text)


async def test_a_rotated_signing_key_is_fetched_again(
    client: httpx.AsyncClient,
    provider: LocalProvider,
    at_provider: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(oidc, "KEYS_REFRESH_S", 0.0)
    assert (await _round_trip(client, at_provider, "/login/oidc/local")).status_code == 303
    provider.rotate_key()
    client.cookies.clear()
    assert (await _round_trip(client, at_provider, "/login/oidc/local")).status_code == 303


async def test_connecting_and_disconnecting_in_settings(
    client: httpx.AsyncClient,
    provider: LocalProvider,
    at_provider: httpx.AsyncClient,
    session: AsyncSession,
) -> None:
    await signed_up_in_browser(client)  # an unconfirmed address: connecting is still allowed
    user_id = await browser_user_id(client)
    page = await client.get("/settings")
    assert 'href="/settings/identities/connect/local"' in page.text
    connected = await _round_trip(client, at_provider, "/settings/identities/connect/local")
    assert connected.status_code == 303
    assert connected.headers["location"] == "/settings#identities"
    page = await client.get("/settings")
    assert provider.user["email"] in page.text
    assert "/settings/identities/connect/local" not in page.text
    [(identity_id,)] = await _rows(
        session, user_id, "SELECT id FROM user_identities WHERE user_id = :id"
    )

    # The identity now signs in to this account.
    cookie = client.cookies["diarist_session"]
    client.cookies.clear()
    assert (await _round_trip(client, at_provider, "/login/oidc/local")).status_code == 303
    assert await browser_user_id(client) == user_id

    # Another account cannot take it.
    client.cookies.clear()
    await signed_up_in_browser(client)
    taken = await _round_trip(client, at_provider, "/settings/identities/connect/local")
    assert taken.status_code == 409
    assert "another account" in alert_text(taken.text)

    client.cookies.clear()
    client.cookies.set("diarist_session", cookie)
    url = f"/settings/identities/{identity_id}/disconnect"
    forged = await client.post(url, data={"csrf": "forged"})
    assert forged.status_code == 403
    gone = await submit(client, "/settings", url, {})
    assert gone.status_code == 303
    assert await _rows(session, user_id, "SELECT id FROM user_identities") == []
    again = await submit(client, "/settings", url, {})
    assert again.status_code == 404


async def test_the_only_way_in_is_not_disconnected(
    client: httpx.AsyncClient,
    provider: LocalProvider,
    at_provider: httpx.AsyncClient,
    session: AsyncSession,
) -> None:
    user_id = await _signed_in_through_provider(client, at_provider)
    [(identity_id,)] = await _rows(
        session, user_id, "SELECT id FROM user_identities WHERE user_id = :id"
    )
    kept = await submit(client, "/settings", f"/settings/identities/{identity_id}/disconnect", {})
    assert kept.status_code == 409
    assert "set a password" in alert_text(kept.text)


async def test_an_account_an_administrator_deactivated_stays_out(
    client: httpx.AsyncClient,
    provider: LocalProvider,
    at_provider: httpx.AsyncClient,
    session: AsyncSession,
) -> None:
    user_id = await _signed_in_through_provider(client, at_provider)
    await _rows(
        session,
        user_id,
        "UPDATE users SET is_active = false, deactivated_by = 'admin' WHERE id = :id RETURNING id",
    )
    client.cookies.clear()
    refused = await _round_trip(client, at_provider, "/login/oidc/local")
    assert refused.status_code == 403
    assert "diarist_session" not in client.cookies


def test_provider_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="reserved"):
        OidcSettings(providers={"email": OidcProvider(issuer="https://id.example", client_id="x")})
    with pytest.raises(ValueError, match="HTTPS"):
        OidcProvider(issuer="http://id.example", client_id="x")
    with pytest.raises(ValueError, match="openid"):
        OidcProvider(issuer="https://id.example", client_id="x", scopes=["email"])
    with pytest.raises(ValueError, match="pattern"):
        OidcSettings.model_validate(
            {"providers": {"Bad Name": {"issuer": "https://a", "client_id": "x"}}}
        )
