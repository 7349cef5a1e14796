"""A hot read (one round trip, db.pipeline) answers exactly what the general path answers for
the same state: the entry a write returns, the tags the ORM query lists."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.db.engine import act_as
from diarist.journal import tags as tags_service
from tests.factories.accounts import signed_up, user_id_of
from tests.factories.journal import create_entry


async def test_get_entry_answers_what_the_write_answered(client: httpx.AsyncClient) -> None:
    me = await signed_up(client)
    entry = await create_entry(client, me.auth, "A walk by the river.", tags=["walks", "river"])
    patched = await client.patch(
        f"/api/v1/entries/{entry['id']}",
        json={"mood_rating": 7, "starred": True},
        headers={**me.auth, "If-Match": f'"{entry["version"]}"'},
    )
    assert patched.status_code == 200, patched.text
    read = await client.get(f"/api/v1/entries/{entry['id']}", headers=me.auth)
    assert read.json() == patched.json()
    assert read.headers["etag"] == patched.headers["etag"]
    trashed = await client.delete(f"/api/v1/entries/{entry['id']}", headers=me.auth)
    assert trashed.status_code == 204
    from_trash = await client.get(f"/api/v1/entries/{entry['id']}", headers=me.auth)
    assert from_trash.status_code == 200
    assert from_trash.json()["deleted_at"] is not None


async def test_the_tag_list_is_the_orm_query_s(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    me = await signed_up(client)
    for name in ("walks", "Walking", "wall art", "rain", "waltz_100%"):
        response = await client.post("/api/v1/tags", json={"name": name}, headers=me.auth)
        assert response.status_code == 201, response.text
    user_id = await user_id_of(client, me)
    for query in (None, "wa", "walk", "waltz_1", "100%", "rian", "zzz"):
        params = {"q": query} if query else None
        hot = (await client.get("/api/v1/tags", params=params, headers=me.auth)).json()
        await act_as(session, user_id)
        orm = await tags_service.list_tags(session, user_id, query=query, limit=100)
        assert [t["name"] for t in hot] == [t.name for t in orm], query
