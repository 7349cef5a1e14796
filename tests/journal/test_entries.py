"""Entries over HTTP: fields, limits, ETags, idempotency, revisions, trash."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.factories.accounts import Account, signed_up
from tests.factories.journal import create_entry, markdown


@pytest.fixture
async def me(client: httpx.AsyncClient) -> Account:
    return await signed_up(client)


def _problem(response: httpx.Response) -> tuple[int, str]:
    assert response.headers["content-type"] == "application/problem+json", response.text
    return response.status_code, response.json()["code"]


async def _count(client: httpx.AsyncClient, me: Account, **params: Any) -> int:
    page = await client.get("/api/v1/entries", params={"limit": 100, **params}, headers=me.auth)
    assert page.status_code == 200, page.text
    return len(page.json()["items"])


async def test_create_get_and_derived_fields(client: httpx.AsyncClient, me: Account) -> None:
    created = await client.post(
        "/api/v1/entries",
        json={
            "raw_data": markdown("# Lake\n\nWe **swam** at dawn."),
            "title": "Lake day",
            "mood_rating": 8,
            "entry_date": "2025-07-01T06:30:00",
            "timezone": "Europe/Berlin",
            "metadata": {"source": "ios", "location": {"lat": 52.5, "lng": 13.4, "accuracy": 10}},
            "tags": ["Summer", "summer ", "swimming"],
            "starred": True,
        },
        headers=me.auth,
    )
    assert created.status_code == 201, created.text
    entry = created.json()
    assert created.headers["etag"] == '"1"'
    assert created.headers["location"] == f"/api/v1/entries/{entry['id']}"
    assert entry["format"] == "markdown"
    assert entry["excerpt"] == "Lake\nWe swam at dawn."
    assert entry["word_count"] == 5
    assert entry["reading_minutes"] == 1
    assert entry["entry_date"] == "2025-07-01T04:30:00Z"  # 06:30 in Berlin
    assert entry["tags"] == ["Summer", "swimming"]
    assert entry["processing_status"] == "pending"
    assert entry["visibility"] == "private"
    assert entry["version"] == 1

    fetched = await client.get(f"/api/v1/entries/{entry['id']}", headers=me.auth)
    assert fetched.json() == entry


async def test_defaults_come_from_preferences(client: httpx.AsyncClient, me: Account) -> None:
    await client.patch(
        "/api/v1/me", json={"preferences": {"timezone": "Asia/Tokyo"}}, headers=me.auth
    )
    entry = await create_entry(client, me.auth, entry_date="2025-01-01T09:00:00")
    assert entry["timezone"] == "Asia/Tokyo"
    assert entry["entry_date"] == "2025-01-01T00:00:00Z"


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"raw_data": "text"}, (422, "validation_error")),
        ({"raw_data": ["a"]}, (422, "validation_error")),
        ({}, (422, "validation_error")),
        ({"raw_data": {"blocks": [{"id": "a"}]}}, (422, "invalid_raw_data")),
        ({"raw_data": {"text": "x"}, "mood_rating": 11}, (422, "validation_error")),
        ({"raw_data": {"text": "x"}, "mood_rating": 0}, (422, "validation_error")),
        ({"raw_data": {"text": "x"}, "title": "t" * 501}, (422, "validation_error")),
        ({"raw_data": {"text": "x"}, "entry_type": "video"}, (422, "validation_error")),
        ({"raw_data": {"text": "x"}, "timezone": "Mars/Base"}, (422, "validation_error")),
        ({"raw_data": {"text": "x"}, "metadata": {f"k{i}": i for i in range(65)}},
         (422, "validation_error")),
        ({"raw_data": {"text": "x"}, "metadata": {"location": {"lat": 91, "lng": 0}}},
         (422, "validation_error")),
        ({"raw_data": {"text": "x"}, "published_at": "2025-01-01T00:00:00Z"},
         (422, "invalid_entry")),
        ({"raw_data": {"text": "x"}, "tags": ["   "]}, (422, "validation_error")),
        ({"raw_data": {"text": "x"}, "tags": [f"t{i}" for i in range(51)]},
         (422, "validation_error")),
        ({"raw_data": {"text": "x"}, "unknown": 1}, (422, "validation_error")),
    ],
)  # fmt: skip
async def test_bad_input_is_refused_and_nothing_written(
    client: httpx.AsyncClient, me: Account, payload: dict[str, Any], expected: tuple[int, str]
) -> None:
    response = await client.post("/api/v1/entries", json=payload, headers=me.auth)
    assert _problem(response) == expected
    assert await _count(client, me) == 0
    assert (await client.get("/api/v1/tags", headers=me.auth)).json() == []


async def test_size_limits(client: httpx.AsyncClient, me: Account) -> None:
    big = {"text": "x" * (1024 * 1024)}
    too_large = await client.post("/api/v1/entries", json={"raw_data": big}, headers=me.auth)
    assert _problem(too_large) == (413, "raw_data_too_large")
    huge = await client.post(
        "/api/v1/entries", json={"raw_data": {"text": "y" * (3 * 1024 * 1024)}}, headers=me.auth
    )
    assert _problem(huge) == (413, "payload_too_large")
    assert await _count(client, me) == 0


async def test_published_entries_need_a_visibility(client: httpx.AsyncClient, me: Account) -> None:
    entry = await create_entry(
        client, me.auth, visibility="shared", published_at="2025-02-01T10:00:00Z"
    )
    assert entry["visibility"] == "shared"
    back = await client.patch(
        f"/api/v1/entries/{entry['id']}", json={"visibility": "private"}, headers=me.auth
    )
    assert _problem(back) == (422, "invalid_entry")


async def test_patch_with_etags(client: httpx.AsyncClient, me: Account) -> None:
    entry = await create_entry(client, me.auth, "First draft", tags=["a"])
    url = f"/api/v1/entries/{entry['id']}"
    changed = await client.patch(
        url, json={"raw_data": markdown("Second draft"), "tags": ["b"]},
        headers={**me.auth, "If-Match": '"1"'},
    )  # fmt: skip
    assert changed.status_code == 200
    assert changed.headers["etag"] == '"2"'
    assert changed.json()["tags"] == ["b"]
    assert changed.json()["excerpt"] == "Second draft"

    stale = await client.patch(url, json={"title": "x"}, headers={**me.auth, "If-Match": '"1"'})
    assert _problem(stale) == (412, "version_mismatch")
    assert stale.json()["current_version"] == 2
    assert (await client.get(url, headers=me.auth)).json()["title"] is None

    weak = await client.patch(url, json={"title": "t"}, headers={**me.auth, "If-Match": 'W/"2"'})
    assert weak.status_code == 200
    blind = await client.patch(url, json={"starred": True}, headers=me.auth)
    assert blind.status_code == 200, "without If-Match the write is accepted"
    assert blind.headers["etag"] == '"4"'
    bad = await client.patch(url, json={"title": "t"}, headers={**me.auth, "If-Match": "four"})
    assert _problem(bad) == (400, "invalid_if_match")
    empty = await client.patch(url, json={}, headers=me.auth)
    assert _problem(empty) == (422, "validation_error")
    null_type = await client.patch(url, json={"entry_type": None}, headers=me.auth)
    assert _problem(null_type) == (422, "invalid_entry")


async def test_revisions_keep_and_restore_earlier_text(
    client: httpx.AsyncClient, me: Account
) -> None:
    entry = await create_entry(client, me.auth, "one", title="v1")
    url = f"/api/v1/entries/{entry['id']}"
    await client.patch(url, json={"raw_data": markdown("two")}, headers=me.auth)
    await client.patch(url, json={"mood_rating": 3}, headers=me.auth)  # no text change
    await client.patch(url, json={"title": "v3"}, headers=me.auth)
    revisions = (await client.get(f"{url}/revisions", headers=me.auth)).json()
    assert [(r["version"], r["title"], r["raw_data"]["text"]) for r in revisions] == [
        (3, "v1", "two"),
        (1, "v1", "one"),
    ]
    restored = await client.post(f"{url}/revisions/1/restore", headers=me.auth)
    assert restored.status_code == 200
    assert (restored.json()["title"], restored.json()["excerpt"]) == ("v1", "one")
    assert restored.json()["version"] == 5
    assert (await client.get(f"{url}/revisions/4", headers=me.auth)).json()["title"] == "v3"
    missing = await client.get(f"{url}/revisions/99", headers=me.auth)
    assert _problem(missing) == (404, "revision_not_found")


async def test_idempotent_create(client: httpx.AsyncClient, me: Account) -> None:
    body = {"raw_data": markdown("only once"), "tags": ["x"]}
    headers = {**me.auth, "Idempotency-Key": "abc-123"}
    first = await client.post("/api/v1/entries", json=body, headers=headers)
    again = await client.post("/api/v1/entries", json=body, headers=headers)
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert await _count(client, me) == 1
    different = await client.post(
        "/api/v1/entries", json={"raw_data": markdown("other")}, headers=headers
    )
    assert _problem(different) == (409, "idempotency_key_reused")
    other_user = await signed_up(client)
    theirs = await client.post(
        "/api/v1/entries", json=body, headers={**other_user.auth, "Idempotency-Key": "abc-123"}
    )
    assert theirs.status_code == 201, "keys are per user"


async def test_trash_restore_purge(client: httpx.AsyncClient, me: Account) -> None:
    entry = await create_entry(client, me.auth, tags=["t"])
    url = f"/api/v1/entries/{entry['id']}"

    async def usage() -> int:
        tags = (await client.get("/api/v1/tags", headers=me.auth)).json()
        return int(tags[0]["usage_count"])

    assert await usage() == 1
    assert (await client.delete(url, headers=me.auth)).status_code == 204
    assert await _count(client, me) == 0
    assert await _count(client, me, deleted="true") == 1
    assert await usage() == 0
    trashed = (await client.get(url, headers=me.auth)).json()
    assert trashed["deleted_at"] is not None
    edit = await client.patch(url, json={"title": "x"}, headers=me.auth)
    assert _problem(edit) == (404, "entry_not_found")
    assert _problem(await client.delete(url, headers=me.auth)) == (404, "entry_not_found")

    assert (await client.post(f"{url}/restore", headers=me.auth)).status_code == 200
    assert await usage() == 1
    assert _problem(await client.post(f"{url}/restore", headers=me.auth)) == (
        404,
        "entry_not_found",
    )

    assert (await client.delete(f"{url}/purge", headers=me.auth)).status_code == 204
    assert _problem(await client.get(url, headers=me.auth)) == (404, "entry_not_found")
    assert await usage() == 0


async def test_entries_of_others_are_invisible(client: httpx.AsyncClient, me: Account) -> None:
    entry = await create_entry(client, me.auth)
    other = await signed_up(client)
    for method, path in (("GET", ""), ("PATCH", ""), ("DELETE", ""), ("GET", "/revisions")):
        response = await client.request(
            method, f"/api/v1/entries/{entry['id']}{path}", json={"title": "x"}, headers=other.auth
        )
        assert _problem(response) == (404, "entry_not_found")
    assert await _count(client, other) == 0
