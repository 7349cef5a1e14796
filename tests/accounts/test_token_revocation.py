"""Which tokens end when: a password change or reset and "sign out everywhere" end sessions;
personal access tokens (scripts, the CLI) end too only when the request asks."""

from __future__ import annotations

import httpx

from tests.conftest import FakeClock, Mailbox
from tests.factories.accounts import PASSWORD, Account, login, signed_up

NEW_PASSWORD = "violet-harbour-lantern-31"


async def _pat(client: httpx.AsyncClient, account: Account, scope: str = "read") -> dict[str, str]:
    created = await client.post(
        "/api/v1/auth/tokens", json={"name": "backup", "scope": scope}, headers=account.auth
    )
    assert created.status_code == 201, created.text
    return {"Authorization": f"Bearer {created.json()['token']}"}


async def _works(client: httpx.AsyncClient, auth: dict[str, str]) -> bool:
    return (await client.get("/api/v1/me", headers=auth)).status_code == 200


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_password_change_keeps_personal_tokens_unless_asked(
    client: httpx.AsyncClient,
) -> None:
    account = await signed_up(client)
    other_session = _bearer(await login(client, account.email))
    pat = await _pat(client, account)
    changed = await client.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=account.auth,
    )
    assert changed.status_code == 204, changed.text
    assert not await _works(client, other_session)
    assert await _works(client, pat)
    assert await _works(client, account.auth)

    again = await client.post(
        "/api/v1/me/password",
        json={
            "current_password": NEW_PASSWORD,
            "new_password": PASSWORD,
            "revoke_personal_tokens": True,
        },
        headers=account.auth,
    )
    assert again.status_code == 204, again.text
    assert not await _works(client, pat)
    assert await _works(client, account.auth), "the session making the change stays"
    events = await client.get("/api/v1/me/security-events", headers=account.auth)
    changes = [e for e in events.json()["items"] if e["event_type"] == "password_changed"]
    assert [e["details"] for e in changes] == [
        {"personal_tokens_revoked": True},
        {"personal_tokens_revoked": False},
    ]


async def test_sign_out_everywhere_covers_personal_tokens_on_request(
    client: httpx.AsyncClient,
) -> None:
    account = await signed_up(client)
    other_session = _bearer(await login(client, account.email))
    pat = await _pat(client, account)
    sessions_only = await client.post(
        "/api/v1/auth/sessions/revoke-others", json={}, headers=account.auth
    )
    assert sessions_only.json() == {"revoked": 1}
    assert not await _works(client, other_session)
    assert await _works(client, pat)

    other_session = _bearer(await login(client, account.email))
    everything = await client.post(
        "/api/v1/auth/sessions/revoke-others",
        json={"revoke_personal_tokens": True},
        headers=account.auth,
    )
    assert everything.json() == {"revoked": 2}
    assert not await _works(client, other_session)
    assert not await _works(client, pat)
    assert await _works(client, account.auth)

    # Asked with a personal access token, it keeps that one: it is the caller.
    writer = await _pat(client, account, scope="read_write")
    spare = await _pat(client, account)
    by_token = await client.post(
        "/api/v1/auth/sessions/revoke-others",
        json={"revoke_personal_tokens": True},
        headers=writer,
    )
    assert by_token.json() == {"revoked": 2}  # the session and the spare token
    assert await _works(client, writer)
    assert not await _works(client, spare)
    assert not await _works(client, account.auth)


async def _reset(client: httpx.AsyncClient, mailbox: Mailbox, email: str, **options: bool) -> None:
    await client.post("/api/v1/auth/password-reset/request", json={"email": email})
    done = await client.post(
        "/api/v1/auth/password-reset",
        json={"email": email, "code": mailbox.last_code(email), "new_password": NEW_PASSWORD,
              **options},
    )  # fmt: skip
    assert done.status_code == 204, done.text


async def test_password_reset_ends_personal_tokens_on_request(
    client: httpx.AsyncClient, mailbox: Mailbox, clock: FakeClock
) -> None:
    account = await signed_up(client)
    pat = await _pat(client, account)
    await _reset(client, mailbox, account.email)
    assert not await _works(client, account.auth)
    assert await _works(client, pat)

    clock.advance(31)  # a new code may be mailed
    await _reset(client, mailbox, account.email, revoke_personal_tokens=True)
    assert not await _works(client, pat)
