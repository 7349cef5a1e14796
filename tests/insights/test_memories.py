"""Related memories (nearest in meaning) and on-this-day."""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx
import pytest

from diarist.db.engine import Database
from tests.factories.accounts import Account, signed_up, user_id_of
from tests.factories.journal import analyze_entries, create_entry


@pytest.fixture
async def me(client: httpx.AsyncClient) -> Account:
    return await signed_up(client)


async def test_related_memories_rank_by_meaning(
    client: httpx.AsyncClient, me: Account, database: Database
) -> None:
    lake = await create_entry(client, me.auth, "Swam in the cold lake at sunrise.", title="lake")
    await create_entry(client, me.auth, "An early morning swim in the freezing lake.", title="swim")
    await create_entry(
        client, me.auth, "Filed the quarterly tax return at the office.", title="tax"
    )
    url = f"/api/v1/entries/{lake['id']}/related"
    pending = (await client.get(url, headers=me.auth)).json()
    assert pending == {"status": "pending", "items": []}

    await analyze_entries(database, await user_id_of(client, me))
    related = (await client.get(url, headers=me.auth)).json()
    assert related["status"] == "ready"
    titles = [item["title"] for item in related["items"]]
    assert titles[0] == "swim"
    assert "lake" not in titles, "an entry is not related to itself"
    assert related["items"][0]["similarity"] > 0.5
    strict = await client.get(url, params={"min_similarity": 0.9}, headers=me.auth)
    assert strict.json()["items"] == []

    other = await signed_up(client)
    hidden = await client.get(url, headers=other.auth)
    assert (hidden.status_code, hidden.json()["code"]) == (404, "entry_not_found")
    bad = await client.get(url, params={"limit": 500}, headers=me.auth)
    assert bad.status_code == 422


async def test_on_this_day(client: httpx.AsyncClient, me: Account) -> None:
    for when, title in (
        ("2023-07-14T20:00:00", "two years ago"),
        ("2024-07-14T08:00:00", "last year"),
        ("2024-07-15T08:00:00", "the day after"),
        ("2025-07-14T09:00:00", "today"),
        ("2024-02-29T12:00:00", "leap day"),
    ):
        await create_entry(
            client, me.auth, title, title=title, entry_date=when, timezone="Europe/Berlin"
        )
    found = await client.get(
        "/api/v1/insights/on-this-day", params={"date": "2025-07-14"}, headers=me.auth
    )
    body = found.json()
    assert body["date"] == "2025-07-14"
    assert [item["title"] for item in body["items"]] == ["last year", "two years ago"]
    leap = await client.get(
        "/api/v1/insights/on-this-day", params={"date": "2025-02-28"}, headers=me.auth
    )
    assert [item["title"] for item in leap.json()["items"]] == ["leap day"]
    # No date: today in my time zone (UTC, none chosen).
    before = datetime.now(UTC).date()
    today = await client.get("/api/v1/insights/on-this-day", headers=me.auth)
    assert today.status_code == 200
    assert date.fromisoformat(today.json()["date"]) in {before, datetime.now(UTC).date()}
    bad = await client.get(
        "/api/v1/insights/on-this-day", params={"date": "14.07."}, headers=me.auth
    )
    assert bad.status_code == 422
