"""An authenticated read costs two statements — the token check (which sets the tenant and
reads the preferences) and the query — and writes nothing; a token's activity is recorded
after the response, in a transaction of its own, at most once a minute."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from tests.factories.accounts import Account, signed_up
from tests.factories.journal import create_entry
from tests.fixtures.statements import sent_statements


@pytest.fixture
async def me(client: httpx.AsyncClient) -> Account:
    account = await signed_up(client)
    for body in ("A walk by the river.", "Rain on the river.", "The river froze."):
        await create_entry(client, account.auth, body, tags=["walks", "river"])
    return account


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/entries",
        "/api/v1/entries/{id}",
        "/api/v1/search?q=river&mode=keyword",
        "/api/v1/me",
    ],
)
async def test_an_authenticated_read_is_two_statements_and_no_write(
    client: httpx.AsyncClient, me: Account, app_engine: AsyncEngine, path: str
) -> None:
    entry_id = (await client.get("/api/v1/entries", headers=me.auth)).json()["items"][0]["id"]
    with sent_statements(app_engine) as seen:
        response = await client.get(path.format(id=entry_id), headers=me.auth)
    assert response.status_code == 200, response.text
    assert len(seen) == 2, seen
    assert "auth_resolve_token" in seen[0]
    assert [s.split()[0].upper() for s in seen] == ["SELECT", "SELECT"]
    assert not [s for s in seen if "auth_touch_token" in s]


async def test_activity_is_recorded_after_the_response(
    client: httpx.AsyncClient, me: Account, app_engine: AsyncEngine, session: AsyncSession
) -> None:
    backdate = text(
        "UPDATE auth_tokens SET last_used_at = now() - interval '2 minutes' "
        "WHERE token_hash IS NOT NULL RETURNING id"
    )
    await session.execute(text("SELECT set_config('diarist.user_id', '', true)"))
    user_id = (await client.get("/api/v1/me", headers=me.auth)).json()["id"]
    await session.execute(text("SELECT set_config('diarist.user_id', :u, true)"), {"u": user_id})
    await session.execute(backdate)
    await session.commit()
    with sent_statements(app_engine) as seen:
        response = await client.get("/api/v1/entries", headers=me.auth)
    assert response.status_code == 200
    touches = [i for i, s in enumerate(seen) if "auth_touch_token" in s]
    assert touches == [len(seen) - 1], "one touch, after the request's own statements"
    with sent_statements(app_engine) as seen:
        await client.get("/api/v1/entries", headers=me.auth)
    assert not [s for s in seen if "auth_touch_token" in s], "at most once a minute"
