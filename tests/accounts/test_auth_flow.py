"""Register, sign in, use and end sessions and personal access tokens."""

from __future__ import annotations

import httpx

from tests.factories.accounts import PASSWORD, login, register, signed_up, unique_email


async def test_register_login_me_sessions_revoke(client: httpx.AsyncClient) -> None:
    email = unique_email()
    created = await client.post(
        "/api/v1/auth/register",
        json={"email": f"  {email.upper()} ", "name": "Ada", "password": PASSWORD},
    )
    assert created.status_code == 201
    assert created.json()["email"] == email  # trimmed and lower-cased
    assert "password" not in created.text

    login_response = await client.post(
        "/api/v1/auth/login", json={"email": email.upper(), "password": PASSWORD}
    )
    assert login_response.status_code == 200
    body = login_response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_at"]
    auth = {"Authorization": f"Bearer {body['access_token']}"}

    me = await client.get("/api/v1/me", headers=auth)
    assert me.status_code == 200
    assert me.json()["email"] == email
    assert me.json()["preferences"]["privacy"] == {
        "data_sharing": False,
        "analytics_enabled": False,
    }

    other_token = await login(client, email)
    sessions = (await client.get("/api/v1/auth/sessions", headers=auth)).json()
    assert len(sessions) == 2
    current = [s for s in sessions if s["current"]]
    assert len(current) == 1

    revoked = await client.delete(f"/api/v1/auth/sessions/{current[0]['id']}", headers=auth)
    assert revoked.status_code == 204
    after = await client.get("/api/v1/me", headers=auth)
    assert after.status_code == 401
    assert after.json()["code"] == "not_authenticated"
    assert after.headers["www-authenticate"] == "Bearer"
    # The other session is untouched.
    still = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {other_token}"})
    assert still.status_code == 200


async def test_revoke_others_and_logout(client: httpx.AsyncClient) -> None:
    account = await signed_up(client)
    second = await login(client, account.email)
    third = await login(client, account.email)
    result = await client.post("/api/v1/auth/sessions/revoke-others", headers=account.auth)
    assert result.json() == {"revoked": 2}
    for token in (second, third):
        gone = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert gone.status_code == 401
    assert (await client.post("/api/v1/auth/logout", headers=account.auth)).status_code == 204
    assert (await client.get("/api/v1/me", headers=account.auth)).status_code == 401


async def test_unknown_session_is_404(client: httpx.AsyncClient) -> None:
    account = await signed_up(client)
    missing = await client.delete(
        "/api/v1/auth/sessions/00000000-0000-7000-8000-000000000000", headers=account.auth
    )
    assert missing.status_code == 404
    assert missing.json()["code"] == "session_not_found"
    bad_id = await client.delete("/api/v1/auth/sessions/not-a-uuid", headers=account.auth)
    assert bad_id.status_code == 422


async def test_personal_access_token_scopes(client: httpx.AsyncClient) -> None:
    account = await signed_up(client)
    created = await client.post(
        "/api/v1/auth/tokens", json={"name": "backup script", "scope": "read"}, headers=account.auth
    )
    assert created.status_code == 201
    pat = created.json()
    assert pat["token"].startswith("dpat_")
    read_auth = {"Authorization": f"Bearer {pat['token']}"}

    assert (await client.get("/api/v1/me", headers=read_auth)).status_code == 200
    denied = await client.patch("/api/v1/me", json={"name": "Mallory"}, headers=read_auth)
    assert denied.status_code == 403
    assert denied.json()["code"] == "insufficient_scope"
    assert (await client.get("/api/v1/me", headers=account.auth)).json()["name"] == "Ada"

    writer = await client.post(
        "/api/v1/auth/tokens",
        json={"name": "sync", "scope": "read_write", "expires_in_days": 30},
        headers=account.auth,
    )
    write_auth = {"Authorization": f"Bearer {writer.json()['token']}"}
    assert writer.json()["expires_at"]
    renamed = await client.patch("/api/v1/me", json={"name": "Ada L."}, headers=write_auth)
    assert renamed.status_code == 200

    listed = (await client.get("/api/v1/auth/tokens", headers=account.auth)).json()
    assert {t["name"] for t in listed} == {"backup script", "sync"}
    assert all("token" not in t for t in listed)

    assert (
        await client.delete(f"/api/v1/auth/tokens/{pat['id']}", headers=account.auth)
    ).status_code == 204
    assert (await client.get("/api/v1/me", headers=read_auth)).status_code == 401
    again = await client.delete(f"/api/v1/auth/tokens/{pat['id']}", headers=account.auth)
    assert again.json()["code"] == "token_not_found"


async def test_bad_bearer_headers(client: httpx.AsyncClient) -> None:
    for headers in ({}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer "},
                    {"Authorization": "Bearer dss_forged"}):  # fmt: skip
        response = await client.get("/api/v1/me", headers=headers)
        assert response.status_code == 401
        assert response.json()["code"] == "not_authenticated"


async def test_profile_and_preferences(client: httpx.AsyncClient) -> None:
    account = await signed_up(client)
    patched = await client.patch(
        "/api/v1/me",
        json={"preferences": {"timezone": "Europe/Berlin", "ai_processing": {"enabled": False}}},
        headers=account.auth,
    )
    assert patched.status_code == 200
    prefs = patched.json()["preferences"]
    assert prefs["timezone"] == "Europe/Berlin"
    assert prefs["ai_processing"] == {
        "enabled": False,
        "providers": ["local"],
        "analysis_depth": "standard",
    }

    bad_zone = await client.patch(
        "/api/v1/me", json={"preferences": {"timezone": "Mars/Olympus"}}, headers=account.auth
    )
    assert bad_zone.status_code == 422
    assert bad_zone.json()["code"] == "invalid_preferences"
    unknown_key = await client.patch(
        "/api/v1/me", json={"preferences": {"colour": "red"}}, headers=account.auth
    )
    assert unknown_key.json()["code"] == "invalid_preferences"
    unknown_field = await client.patch("/api/v1/me", json={"nickname": "x"}, headers=account.auth)
    assert unknown_field.status_code == 422
    # Nothing half-written: the rejected patches left the stored preferences as they were.
    me = (await client.get("/api/v1/me", headers=account.auth)).json()
    assert me["preferences"]["timezone"] == "Europe/Berlin"


async def test_security_events_are_mine_and_paginated(client: httpx.AsyncClient) -> None:
    account = await signed_up(client)
    wrong = await client.post(
        "/api/v1/auth/login", json={"email": account.email, "password": "not-the-password-9"}
    )
    assert wrong.status_code == 401
    await login(client, account.email)
    page = (await client.get("/api/v1/me/security-events?limit=2", headers=account.auth)).json()
    assert [e["event_type"] for e in page["items"]] == ["login", "failed_login"]
    assert page["items"][0]["ip_hash"]
    assert "127.0.0.1" not in str(page)
    rest = await client.get(
        f"/api/v1/me/security-events?limit=2&cursor={page['next_cursor']}", headers=account.auth
    )
    assert [e["event_type"] for e in rest.json()["items"]] == ["login", "register"]
    assert rest.json()["next_cursor"] is None

    other = await signed_up(client)
    theirs = (await client.get("/api/v1/me/security-events", headers=other.auth)).json()
    assert {e["event_type"] for e in theirs["items"]} == {"register", "login"}

    bad = await client.get("/api/v1/me/security-events?cursor=%%%", headers=account.auth)
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid_cursor"
    too_many = await client.get("/api/v1/me/security-events?limit=1000", headers=account.auth)
    assert too_many.status_code == 422


async def test_registration_without_password_uses_codes(client: httpx.AsyncClient) -> None:
    email = unique_email()
    created = await client.post("/api/v1/auth/register", json={"email": email, "name": "Otto"})
    assert created.json()["auth_provider"] == "otp"
    refused = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert refused.status_code == 401


async def test_email_is_unique_case_insensitively(client: httpx.AsyncClient) -> None:
    email = await register(client)
    again = await client.post(
        "/api/v1/auth/register", json={"email": email.upper(), "name": "Eve", "password": PASSWORD}
    )
    assert again.status_code == 409
    assert again.json()["code"] == "email_taken"
