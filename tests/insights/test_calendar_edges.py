"""Entries dated at the edges of the calendar (stored before entry dates were bounded) break
neither the statistics drain and rebuild nor any insights read or generation."""

from __future__ import annotations

from datetime import date

import httpx
import pytest
from sqlalchemy import text

from diarist.db.engine import Database
from diarist.insights import repository as repo
from diarist.insights import statistics, tasks
from tests.factories.accounts import Account, signed_up, user_id_of
from tests.factories.journal import create_entry

API = "/api/v1/insights"


@pytest.fixture
async def me(client: httpx.AsyncClient) -> Account:
    return await signed_up(client)


async def test_entries_at_the_edges_of_the_calendar_break_no_drain_or_read(
    client: httpx.AsyncClient, me: Account, database: Database
) -> None:
    user_id = await user_id_of(client, me)
    await create_entry(client, me.auth, "Ordinary.", mood_rating=5)
    # Written before dates were bounded: 0001-12-31 BC and 10000-01-01 as local days, and
    # the first and last days Python can hold.
    edges = [
        ("0001-01-01 03:00+00", "America/Los_Angeles"),
        ("0001-01-01 12:00+00", "UTC"),
        ("9999-12-31 12:00+00", "UTC"),
        ("9999-12-31 20:00+00", "Pacific/Kiritimati"),
    ]
    for when, zone in edges:
        edge = await create_entry(client, me.auth, "Edge.", mood_rating=7)
        async with database.unit_of_work(user_id=user_id) as session:
            await session.execute(
                text(
                    "UPDATE entries SET entry_date = CAST(:when AS timestamptz), timezone = :zone "
                    "WHERE id = :id"
                ),
                {"when": when, "zone": zone, "id": edge["id"]},
            )
    assert await tasks.drain_user(database, user_id) >= 3
    async with database.unit_of_work(user_id=user_id) as session:
        days = [row.day for row in await repo.list_stored_day_rows(session, user_id)]
        assert date.min in days
        assert date.max in days
        await statistics.rebuild_statistics(session, user_id)
    for path in ("/mood", "/writing", "/correlations", "/usage", "/emotions"):
        response = await client.get(f"{API}{path}", headers=me.auth)
        assert response.status_code == 200, (path, response.text)
    await tasks.generate_for_user(database, user_id, date(2026, 3, 18))
