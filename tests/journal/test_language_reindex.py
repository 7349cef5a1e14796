"""Changing the language preference re-indexes the user's entries: a job is queued, and search
then stems in the new language."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.db.engine import act_as
from diarist.journal import service as entries_service
from tests.factories.accounts import Account, signed_up
from tests.factories.journal import create_entry


@pytest.fixture
async def me(client: httpx.AsyncClient) -> Account:
    return await signed_up(client)


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
            "AND queue_name = 'maintenance' AND args->>'user_id' = :u"
        ),
        {"u": str(user_id)},
    )
    assert job == 1
    await act_as(session, user_id)
    assert await entries_service.reindex_search(session, user_id) == 1
    await session.commit()
    found = await client.get("/api/v1/search", params={"q": "Apfel"}, headers=me.auth)
    assert [hit["title"] for hit in found.json()["items"]] == ["Markt"]
