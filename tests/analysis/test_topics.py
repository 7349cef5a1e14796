"""Topics grown from keywords, and tag suggestions (offered, or applied only by a rule)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.db.engine import Database, act_as
from tests.factories.accounts import Account, signed_up, user_id_of
from tests.factories.journal import analyze_entries, create_entry

GARDEN = [
    "Garden day. The garden beds are finally ready and the garden smells of compost.",
    "Worked in the garden until dark; the garden tomatoes need stakes.",
    "Gardening again. The garden is where my head gets quiet.",
]


@pytest.fixture
async def me(client: httpx.AsyncClient) -> Account:
    return await signed_up(client)


async def _topics(client: httpx.AsyncClient, me: Account, **params: Any) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/topics", params=params, headers=me.auth)
    assert response.status_code == 200, response.text
    return list(response.json())


async def test_topics_recur_across_entries(
    client: httpx.AsyncClient, me: Account, database: Database
) -> None:
    entries = [await create_entry(client, me.auth, text) for text in GARDEN]
    await create_entry(client, me.auth, "Quarterly report deadline at the office.")
    await analyze_entries(database, await user_id_of(client, me))

    topics = await _topics(client, me)
    garden = next(t for t in topics if t["name"].startswith("garden"))
    assert garden["entries"] == 3
    assert all(t["entries"] >= 2 for t in topics), "only recurring topics by default"
    first = (await client.get(f"/api/v1/entries/{entries[0]['id']}", headers=me.auth)).json()
    assert garden["name"] in first["analysis"]["topics"]

    renamed = await client.patch(
        f"/api/v1/topics/{garden['id']}", json={"name": "Garden"}, headers=me.auth
    )
    assert renamed.json()["name"] == "Garden"
    await client.patch(f"/api/v1/topics/{garden['id']}", json={"hidden": True}, headers=me.auth)
    assert all(t["id"] != garden["id"] for t in await _topics(client, me))
    assert any(t["id"] == garden["id"] for t in await _topics(client, me, include_hidden="true"))
    hidden_entry = (await client.get(f"/api/v1/entries/{entries[0]['id']}", headers=me.auth)).json()
    assert "Garden" not in hidden_entry["analysis"]["topics"]


async def test_merged_topics_keep_receiving_keywords(
    client: httpx.AsyncClient, me: Account, database: Database
) -> None:
    user_id = await user_id_of(client, me)
    for text_ in GARDEN[:2]:
        await create_entry(client, me.auth, text_)
    await create_entry(client, me.auth, "Compost, compost, compost: the compost heap is warm.")
    await create_entry(client, me.auth, "Turned the compost again.")
    await analyze_entries(database, user_id)
    topics = {t["name"]: t for t in await _topics(client, me, min_entries=1)}
    garden = next(t for name, t in topics.items() if name.startswith("garden"))
    compost = next(t for name, t in topics.items() if name.startswith("compost"))
    merged = await client.post(
        f"/api/v1/topics/{compost['id']}/merge", json={"into": garden["id"]}, headers=me.auth
    )
    assert merged.status_code == 200
    gone = await client.patch(
        f"/api/v1/topics/{compost['id']}", json={"hidden": True}, headers=me.auth
    )
    assert (gone.status_code, gone.json()["code"]) == (404, "topic_not_found")
    later = await create_entry(client, me.auth, "More compost today, the compost smells sweet.")
    await analyze_entries(database, user_id)
    fetched = (await client.get(f"/api/v1/entries/{later['id']}", headers=me.auth)).json()
    assert garden["name"] in fetched["analysis"]["topics"], "the alias leads to the merged topic"
    itself = await client.post(
        f"/api/v1/topics/{garden['id']}/merge", json={"into": garden["id"]}, headers=me.auth
    )
    assert itself.json()["code"] == "invalid_topic"


async def _assignment(
    session: AsyncSession, user_id: uuid.UUID, entry_id: str
) -> list[tuple[str, str]]:
    await act_as(session, user_id)
    rows = await session.execute(
        text(
            "SELECT t.name, et.assignment_type FROM entry_tags et JOIN tags t ON t.id = et.tag_id "
            "WHERE et.entry_id = :e ORDER BY t.name"
        ),
        {"e": entry_id},
    )
    return [(row[0], row[1]) for row in rows]


async def test_suggestions_are_offered_not_applied(
    client: httpx.AsyncClient, me: Account, database: Database, session: AsyncSession
) -> None:
    user_id = await user_id_of(client, me)
    await create_entry(client, me.auth, GARDEN[0], tags=["garden"])
    entry = await create_entry(client, me.auth, GARDEN[1])
    await analyze_entries(database, user_id)
    url = f"/api/v1/entries/{entry['id']}/tag-suggestions"
    suggestions = (await client.get(url, headers=me.auth)).json()
    garden = next(s for s in suggestions if s["name"] == "garden")
    assert garden["confidence"] >= 0.3
    assert set(garden["reasons"]) <= {"topic", "similar entries"}
    assert await _assignment(session, user_id, entry["id"]) == [], "never applied silently"

    accepted = await client.post(f"{url}/{garden['tag_id']}/accept", headers=me.auth)
    assert accepted.status_code == 204
    assert await _assignment(session, user_id, entry["id"]) == [("garden", "ai_suggested")]
    again = await client.post(f"{url}/{garden['tag_id']}/accept", headers=me.auth)
    assert (again.status_code, again.json()["code"]) == (404, "suggestion_not_found")


async def test_auto_rule_applies_a_confident_suggestion(
    client: httpx.AsyncClient, me: Account, database: Database, session: AsyncSession
) -> None:
    user_id = await user_id_of(client, me)
    await create_entry(client, me.auth, GARDEN[0], tags=["garden"])
    tag = (await client.get("/api/v1/tags", headers=me.auth)).json()[0]
    rule = await client.patch(
        f"/api/v1/tags/{tag['id']}", json={"auto_apply": True}, headers=me.auth
    )
    assert rule.json()["auto_apply"] is True
    entry = await create_entry(client, me.auth, GARDEN[2])
    unrelated = await create_entry(client, me.auth, "Tax forms and a dentist appointment.")
    await analyze_entries(database, user_id)
    assert await _assignment(session, user_id, entry["id"]) == [("garden", "auto_rule")]
    assert await _assignment(session, user_id, unrelated["id"]) == []
