"""An authenticated read writes nothing. A hot read (the plain timeline, one entry, /me, tags,
a keyword search without filters or date words) is one round trip on the wire: BEGIN, the
token check, the read and COMMIT in one flush. A semantic or hybrid search without them is two
(the embedder works between them). A create is two: the token check, then the writes with the
COMMIT. Other reads are two statements,
the token check (which sets the tenant and reads the preferences) and the query. A token's
activity is recorded after the response, in a transaction of its own, at most once a minute."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from diarist.accounts.service import AccountsContext
from diarist.config import Settings
from diarist.db.engine import Database, PoolPlan, create_engine
from diarist.db.provision import DatabaseUrls
from tests.conftest import make_settings
from tests.factories.accounts import Account, signed_up, user_id_of
from tests.factories.journal import analyze_entries, create_entry
from tests.fixtures.live import live_app_client
from tests.fixtures.statements import sent_statements
from tests.fixtures.wire import traced_connection


@pytest.fixture
async def me(client: httpx.AsyncClient) -> Account:
    account = await signed_up(client)
    for body in ("A walk by the river.", "Rain on the river.", "The river froze."):
        await create_entry(client, account.auth, body, tags=["walks", "river"])
    return account


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/entries?starred=false",  # a filtered timeline: the general path
        "/api/v1/search?q=river+this+week&mode=keyword",  # date words: the zone comes first
        "/api/v1/search?q=river&mode=keyword&starred=false",
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


@pytest.fixture
async def one_connection(fresh_db: DatabaseUrls, settings: Settings) -> Database:
    """The app's pool of a single connection, on a database whose commits are real."""
    return Database(create_engine(fresh_db.app, settings.db, PoolPlan(1, 0), application_name="t"))


@pytest.mark.parametrize(
    ("path", "trips"),
    [
        ("/api/v1/entries", 1),
        ("/api/v1/entries?limit=2&order=created_at", 1),
        ("/api/v1/entries?deleted=true", 1),
        ("/api/v1/me", 1),
        ("/api/v1/entries/{id}", 1),
        ("/api/v1/tags", 1),
        ("/api/v1/tags?q=wal", 1),
        ("/api/v1/search?q=walk&mode=keyword", 1),
        ("/api/v1/search?q=walks&mode=keyword&limit=3&parse_dates=false", 1),
        # By meaning: the token check with the user's vector count; then, after the
        # embedder, the search.
        ("/api/v1/search?q=walk&mode=semantic", 2),
        ("/api/v1/search?q=walking&mode=semantic&min_similarity=0.2&deleted=false", 2),
        ("/api/v1/search?q=walks&mode=hybrid", 2),
        ("/api/v1/search?q=walks", 2),  # hybrid, the default
    ],
)
async def test_a_hot_read_is_one_round_trip_on_the_wire(
    fresh_db: DatabaseUrls,
    tmp_path: Path,
    accounts_context: AccountsContext,
    one_connection: Database,
    embedder_url: str,
    path: str,
    trips: int,
) -> None:
    settings = make_settings(fresh_db, tmp_path)
    settings.analysis = settings.analysis.model_copy(update={"embedder_url": embedder_url})
    async with live_app_client(
        settings, fresh_db, accounts_context, PoolPlan(1, 0), one_connection
    ) as client:
        me = await signed_up(client)
        for body in ("One walk.", "Two walks.", "Three walks."):
            await create_entry(client, me.auth, body, tags=["walks"])
        if "search" in path:
            await analyze_entries(one_connection, await user_id_of(client, me))
        entry_id = (await client.get("/api/v1/entries", headers=me.auth)).json()["items"][0]["id"]
        path = path.format(id=entry_id)
        first = await client.get(path, headers=me.auth)
        assert first.status_code == 200, first.text
        if "search" in path:
            assert first.json()["items"], "the entries are found"
        async with traced_connection(one_connection) as wire:
            response = await client.get(path, headers=me.auth)
        assert response.json() == first.json()
        assert response.headers.get("etag") == first.headers.get("etag")
        assert wire.round_trips == trips, wire.messages_sent
        if "limit=2" in path:  # three entries: a second page, read through the cursor
            cursor = first.json()["next_cursor"]
            assert cursor
            async with traced_connection(one_connection) as wire:
                page = await client.get(f"{path}&cursor={cursor}", headers=me.auth)
            assert page.status_code == 200
            assert [e["id"] for e in page.json()["items"]] != [
                e["id"] for e in first.json()["items"]
            ]
            assert wire.round_trips == 1, wire.messages_sent


async def test_a_bad_token_on_a_plain_timeline_is_401_and_reads_nothing(
    client: httpx.AsyncClient, me: Account
) -> None:
    response = await client.get("/api/v1/entries", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    bad_cursor = await client.get(
        "/api/v1/entries?cursor=garbage", headers={"Authorization": "Bearer nope"}
    )
    assert bad_cursor.status_code == 401, "the token is checked before the cursor"
    assert (await client.get("/api/v1/entries?cursor=garbage", headers=me.auth)).status_code == 400


@pytest.mark.parametrize(
    "headers", [{}, {"Idempotency-Key": "wire-1"}], ids=["plain", "idempotent"]
)
async def test_a_create_is_two_round_trips_on_the_wire(
    fresh_db: DatabaseUrls,
    tmp_path: Path,
    accounts_context: AccountsContext,
    one_connection: Database,
    headers: dict[str, str],
) -> None:
    """The token check with the new entry's id, then the entry, its tags (one new, one
    known), their links, its analysis job, the entry as GET shows it and the commit."""
    settings = make_settings(fresh_db, tmp_path)
    async with live_app_client(
        settings, fresh_db, accounts_context, PoolPlan(1, 0), one_connection
    ) as client:
        me = await signed_up(client)
        await create_entry(client, me.auth, "Before.", tags=["walks"])
        body = {"raw_data": {"text": "A walk by the river."}, "tags": ["Walks", "river"]}
        async with traced_connection(one_connection) as wire:
            created = await client.post(
                "/api/v1/entries", json=body, headers={**me.auth, **headers}
            )
        assert created.status_code == 201, created.text
        assert wire.round_trips == 2, wire.messages_sent
        entry = created.json()
        assert sorted(entry["tags"]) == ["river", "walks"]
        shown = await client.get(f"/api/v1/entries/{entry['id']}", headers=me.auth)
        assert shown.json() == entry
        assert shown.headers["etag"] == created.headers["etag"]
        assert created.headers["location"] == f"/api/v1/entries/{entry['id']}"
        tags = (await client.get("/api/v1/tags", headers=me.auth)).json()
        assert {t["name"]: t["usage_count"] for t in tags} == {"walks": 2, "river": 1}
