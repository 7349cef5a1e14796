"""Inputs that once slipped past validation into a 500, and rules found missing in review."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.db.engine import act_as
from diarist.journal import service as entries_service
from tests.conftest import FakeClock, Mailbox
from tests.factories.accounts import Account, register, signed_up
from tests.factories.journal import create_entry


@pytest.fixture
async def me(client: httpx.AsyncClient) -> Account:
    return await signed_up(client)


def _code(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["code"]


@pytest.mark.parametrize(
    "payload",
    [
        {"raw_data": {"text": "x"}, "title": "a\u0000b"},
        {"raw_data": {"text": "x\u0000"}},
        {"raw_data": {"te\u0000xt": "x"}},
        {"raw_data": {"text": "x"}, "metadata": {"source": "\u0000"}},
        {"raw_data": {"text": "x"}, "tags": ["a\u0000"]},
    ],
)
async def test_nul_characters_are_refused(
    client: httpx.AsyncClient, me: Account, payload: dict[str, Any]
) -> None:
    response = await client.post("/api/v1/entries", json=payload, headers=me.auth)
    assert _code(response) == (422, "validation_error")


async def test_nul_in_filters_and_names(client: httpx.AsyncClient, me: Account) -> None:
    response = await client.get(
        "/api/v1/entries", params={"metadata_contains": '{"a": "\\u0000"}'}, headers=me.auth
    )
    assert response.status_code == 422
    named = await client.post(
        "/api/v1/auth/register",
        json={"email": "nul@example.org", "name": "a\u0000", "password": "amber-falcon-river-92"},
    )
    assert _code(named) == (422, "validation_error")


async def test_blank_names_are_refused(client: httpx.AsyncClient, me: Account) -> None:
    registered = await client.post(
        "/api/v1/auth/register",
        json={"email": "blank@example.org", "name": "   ", "password": "amber-falcon-river-92"},
    )
    assert _code(registered) == (422, "validation_error")
    assert _code(await client.patch("/api/v1/me", json={"name": "  "}, headers=me.auth)) == (
        422,
        "validation_error",
    )
    token = await client.post("/api/v1/auth/tokens", json={"name": "   "}, headers=me.auth)
    assert _code(token) == (422, "validation_error")
    tag = await client.post("/api/v1/tags", json={"name": "   "}, headers=me.auth)
    assert _code(tag) == (422, "validation_error")


async def test_more_malformed_input_is_4xx(client: httpx.AsyncClient, me: Account) -> None:
    forged = base64.urlsafe_b64encode(b'["abc"]').decode().rstrip("=")
    events = await client.get(f"/api/v1/me/security-events?cursor={forged}", headers=me.auth)
    assert _code(events) == (400, "invalid_cursor")
    mixed = await client.get(
        "/api/v1/entries",
        params={"from": "2024-01-01T00:00:00Z", "to": "2024-02-01T00:00:00"},
        headers=me.auth,
    )
    assert mixed.status_code == 200
    deep = await client.get(
        "/api/v1/entries", params={"raw_data_contains": "[" * 3000}, headers=me.auth
    )
    assert _code(deep) == (422, "invalid_entry")
    table = {"blocks": [{"id": "t", "type": "table", "data": {"content": [5, None, ["ok"]]}}]}
    created = await client.post("/api/v1/entries", json={"raw_data": table}, headers=me.auth)
    assert created.status_code == 201
    assert created.json()["excerpt"] == "ok"
    huge = await client.get(
        f"/api/v1/entries/{created.json()['id']}/revisions/99999999999", headers=me.auth
    )
    assert huge.status_code == 422


async def test_unicode_tag_names(client: httpx.AsyncClient, me: Account) -> None:
    entry = await create_entry(client, me.auth, tags=["İstanbul", "ΟΔΟΣ"])
    assert sorted(entry["tags"]) == sorted(["İstanbul", "ΟΔΟΣ"])
    # The database folds case: "İSTANBUL" is the tag "İstanbul", not a new one.
    again = await create_entry(client, me.auth, tags=["İSTANBUL", "ΟΔΟΣ"])
    assert sorted(again["tags"]) == sorted(["İstanbul", "ΟΔΟΣ"])
    tags = (await client.get("/api/v1/tags", headers=me.auth)).json()
    assert {(t["name"], t["usage_count"]) for t in tags} == {("ΟΔΟΣ", 2), ("İstanbul", 2)}


async def test_merge_into_a_descendant(client: httpx.AsyncClient, me: Account) -> None:
    async def tag(name: str, parent: str | None = None) -> str:
        body = {"name": name, **({"parent_id": parent} if parent else {})}
        made = await client.post("/api/v1/tags", json=body, headers=me.auth)
        assert made.status_code == 201, made.text
        return str(made.json()["id"])

    root = await tag("root")
    a1 = await tag("a1", root)
    a2 = await tag("a2", a1)
    a3 = await tag("a3", a2)
    merged = await client.post(f"/api/v1/tags/{a1}/merge", json={"into": a3}, headers=me.auth)
    assert merged.status_code == 200
    assert merged.json()["parent_id"] == root, "the target takes the source's place"
    child = (await client.get(f"/api/v1/tags/{a2}", headers=me.auth)).json()
    assert child["parent_id"] == a3
    # No cycle: walking up from a2 reaches the root.
    seen, current = set(), a2
    while current:
        assert current not in seen
        seen.add(current)
        current = (await client.get(f"/api/v1/tags/{current}", headers=me.auth)).json()["parent_id"]


async def test_relationships_are_deleted_only_through_their_tags(
    client: httpx.AsyncClient, me: Account
) -> None:
    ids = []
    for name in ("p", "q", "r"):
        ids.append(
            (await client.post("/api/v1/tags", json={"name": name}, headers=me.auth)).json()["id"]
        )
    link = await client.post(
        f"/api/v1/tags/{ids[0]}/relationships",
        json={"related_tag_id": ids[1], "kind": "related"},
        headers=me.auth,
    )
    wrong = await client.delete(
        f"/api/v1/tags/{ids[2]}/relationships/{link.json()['id']}", headers=me.auth
    )
    assert _code(wrong) == (404, "relationship_not_found")
    right = await client.delete(
        f"/api/v1/tags/{ids[1]}/relationships/{link.json()['id']}", headers=me.auth
    )
    assert right.status_code == 204


async def test_a_wrong_guess_at_an_expired_code_says_invalid(
    client: httpx.AsyncClient, mailbox: Mailbox, clock: FakeClock
) -> None:
    email = await register(client)
    await client.post("/api/v1/auth/otp/request", json={"email": email})
    code = mailbox.last_code(email)
    clock.advance(3600)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    guess = await client.post("/api/v1/auth/otp/login", json={"email": email, "code": wrong})
    assert _code(guess) == (400, "invalid_code")
    right = await client.post("/api/v1/auth/otp/login", json={"email": email, "code": code})
    assert _code(right) == (400, "code_expired")


async def test_language_change_reindexes_entries(
    client: httpx.AsyncClient, me: Account, session: AsyncSession
) -> None:
    await create_entry(client, me.auth, "Wir kauften Äpfel auf dem Markt.", title="Markt")
    changed = await client.patch(
        "/api/v1/me", json={"preferences": {"language": "de"}}, headers=me.auth
    )
    user_id = uuid.UUID(changed.json()["id"])
    job = await session.scalar(
        text(
            "SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'journal:reindex_language' "
            "AND args->>'user_id' = :u"
        ),
        {"u": str(user_id)},
    )
    assert job == 1
    await act_as(session, user_id)
    assert await entries_service.reindex_search(session, user_id) == 1
    await session.commit()
    found = await client.get("/api/v1/search", params={"q": "Apfel"}, headers=me.auth)
    assert [hit["title"] for hit in found.json()["items"]] == ["Markt"]
