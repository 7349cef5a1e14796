"""The timeline: keyset pagination and every filter."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from diarist.journal.schemas import EntryPage, EntrySummary
from tests.factories.accounts import Account, signed_up
from tests.factories.journal import create_entry


@pytest.fixture
async def me(client: httpx.AsyncClient) -> Account:
    return await signed_up(client)


async def _titles(client: httpx.AsyncClient, me: Account, **params: Any) -> list[str]:
    response = await client.get("/api/v1/entries", params={"limit": 100, **params}, headers=me.auth)
    assert response.status_code == 200, response.text
    return [item["title"] for item in response.json()["items"]]


async def test_pages_are_stable_under_concurrent_inserts(
    client: httpx.AsyncClient, me: Account
) -> None:
    for day in range(1, 8):
        await create_entry(client, me.auth, title=f"d{day}", entry_date=f"2025-03-0{day}T12:00:00Z")
    first = (await client.get("/api/v1/entries?limit=3", headers=me.auth)).json()
    assert [i["title"] for i in first["items"]] == ["d7", "d6", "d5"]
    # Someone writes a newer and an older entry between two page loads.
    await create_entry(client, me.auth, title="new", entry_date="2025-03-09T12:00:00Z")
    await create_entry(client, me.auth, title="old", entry_date="2025-02-01T12:00:00Z")
    seen = [i["title"] for i in first["items"]]
    cursor = first["next_cursor"]
    while cursor:
        page = (
            await client.get(
                "/api/v1/entries", params={"limit": 3, "cursor": cursor}, headers=me.auth
            )
        ).json()
        seen += [i["title"] for i in page["items"]]
        cursor = page["next_cursor"]
    assert seen == ["d7", "d6", "d5", "d4", "d3", "d2", "d1", "old"]


async def test_same_date_entries_are_not_skipped(client: httpx.AsyncClient, me: Account) -> None:
    for n in range(5):
        await create_entry(client, me.auth, title=f"e{n}", entry_date="2025-05-05T05:05:05Z")
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/api/v1/entries", params=params, headers=me.auth)).json()
        seen += [i["title"] for i in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert sorted(seen) == [f"e{n}" for n in range(5)]
    assert len(seen) == 5


async def test_order_by_created_at(client: httpx.AsyncClient, me: Account) -> None:
    await create_entry(client, me.auth, title="written first", entry_date="2025-09-01T00:00:00Z")
    await create_entry(client, me.auth, title="written second", entry_date="2020-01-01T00:00:00Z")
    assert await _titles(client, me) == ["written first", "written second"]
    assert await _titles(client, me, order="created_at") == ["written second", "written first"]


async def test_filters(client: httpx.AsyncClient, me: Account) -> None:
    await create_entry(
        client,
        me.auth,
        title="run",
        tags=["sport/running"],
        mood_rating=8,
        entry_date="2025-01-10T10:00:00Z",
        metadata={"source": "watch"},
    )
    await create_entry(
        client,
        me.auth,
        title="swim",
        tags=["swimming"],
        mood_rating=6,
        entry_date="2025-02-10T10:00:00Z",
        entry_type="photo",
        starred=True,
    )
    await create_entry(
        client,
        me.auth,
        title="sad",
        mood_rating=2,
        entry_date="2025-03-10T10:00:00Z",
        tags=["sport/running", "swimming"],
    )
    tags = {t["name"]: t["id"] for t in (await client.get("/api/v1/tags", headers=me.auth)).json()}
    sport = (await client.post("/api/v1/tags", json={"name": "sport"}, headers=me.auth)).json()
    for child in ("sport/running", "swimming"):
        moved = await client.patch(
            f"/api/v1/tags/{tags[child]}", json={"parent_id": sport["id"]}, headers=me.auth
        )
        assert moved.status_code == 200

    assert await _titles(client, me, **{"from": "2025-02-01T00:00:00Z"}) == ["sad", "swim"]
    assert await _titles(client, me, to="2025-02-01T00:00:00Z") == ["run"]
    assert await _titles(client, me, tag="swimming") == ["sad", "swim"]
    assert await _titles(client, me, tag="SPORT") == ["sad", "swim", "run"], "descendants count"
    both = await _titles(client, me, tag=["sport/running", "swimming"], tag_mode="all")
    assert both == ["sad"]
    assert await _titles(client, me, tag=["swimming", "nope"]) == ["sad", "swim"]
    assert await _titles(client, me, tag=["swimming", "nope"], tag_mode="all") == []
    assert await _titles(client, me, mood_min=6) == ["swim", "run"]
    assert await _titles(client, me, mood_max=5) == ["sad"]
    assert await _titles(client, me, entry_type="photo") == ["swim"]
    assert await _titles(client, me, starred="true") == ["swim"]
    assert await _titles(client, me, starred="false") == ["sad", "run"]
    assert await _titles(client, me, processing_status="pending") == ["sad", "swim", "run"]
    assert await _titles(client, me, metadata_contains='{"source": "watch"}') == ["run"]
    assert await _titles(client, me, raw_data_contains='{"format": "markdown"}') == [
        "sad",
        "swim",
        "run",
    ]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"colour": "red"}, (422, "validation_error")),
        ({"limit": 101}, (422, "validation_error")),
        ({"limit": 0}, (422, "validation_error")),
        ({"mood_min": 11}, (422, "validation_error")),
        ({"mood_min": 7, "mood_max": 3}, (422, "invalid_entry")),
        ({"from": "yesterday"}, (422, "validation_error")),
        ({"from": "2025-02-01T00:00:00Z", "to": "2025-01-01T00:00:00Z"}, (422, "invalid_entry")),
        ({"tag_mode": "some"}, (422, "validation_error")),
        ({"order": "title"}, (422, "validation_error")),
        ({"cursor": "garbage"}, (400, "invalid_cursor")),
        ({"metadata_contains": "{not json"}, (422, "invalid_entry")),
        ({"raw_data_contains": "[1]"}, (422, "invalid_entry")),
        ({"entry_type": "video"}, (422, "validation_error")),
    ],
)
async def test_bad_list_parameters(
    client: httpx.AsyncClient, me: Account, params: dict[str, Any], expected: tuple[int, str]
) -> None:
    response = await client.get("/api/v1/entries", params=params, headers=me.auth)
    assert (response.status_code, response.json()["code"]) == expected


async def test_cursor_of_another_ordering_is_refused(
    client: httpx.AsyncClient, me: Account
) -> None:
    for _ in range(2):
        await create_entry(client, me.auth)
    cursor = (await client.get("/api/v1/entries?limit=1", headers=me.auth)).json()["next_cursor"]
    response = await client.get(
        "/api/v1/entries", params={"cursor": cursor, "order": "created_at"}, headers=me.auth
    )
    assert (response.status_code, response.json()["code"]) == (400, "invalid_cursor")
    other = await signed_up(client)
    theirs = await client.get("/api/v1/entries", params={"cursor": cursor}, headers=other.auth)
    assert theirs.json()["items"] == [], "a cursor reveals nothing to another user"


async def test_the_page_is_exactly_the_documented_summary(
    client: httpx.AsyncClient, me: Account
) -> None:
    """The timeline is serialised from rows without a model: it must still be the schema."""
    long_text = "word " * 200
    created = await create_entry(client, me.auth, long_text, title="Long", tags=["b", "A"])
    page = (await client.get("/api/v1/entries", headers=me.auth)).json()
    EntryPage.model_validate(page)
    item = next(i for i in page["items"] if i["id"] == created["id"])
    assert set(item) == set(EntrySummary.model_fields)
    assert item["tags"] == ["A", "b"]
    assert item["excerpt"].endswith("…")
    assert len(item["excerpt"]) <= 281
    full = (await client.get(f"/api/v1/entries/{created['id']}", headers=me.auth)).json()
    assert {k: full[k] for k in item} == item
