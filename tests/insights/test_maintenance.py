"""Incremental maintenance: whatever happens to entries, tags, topics and analysis results, the
drained statistics equal a full recompute from the source rows."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.db.engine import Database, PoolPlan, create_engine
from diarist.db.provision import DatabaseUrls
from diarist.insights import repository as repo
from diarist.insights import statistics, tasks
from diarist.journal.schemas import EntryCreate
from tests.conftest import make_settings
from tests.factories.accounts import Account, signed_up, user_id_of
from tests.factories.journal import analyze_entries, create_entry, markdown, user_with_entries


@pytest.fixture
async def me(client: httpx.AsyncClient) -> Account:
    return await signed_up(client)


def _normal(rows: list[Any]) -> list[tuple[Any, ...]]:
    """Rows with floats rounded: sums of floats may differ in the last bits by row order."""
    return [
        tuple(round(v, 9) if isinstance(v, float) else v for v in row)
        for row in rows
    ]  # fmt: skip


async def assert_drained_equals_recompute(database: Database, user_id: uuid.UUID) -> None:
    await tasks.drain_user(database, user_id)
    async with database.unit_of_work(user_id=user_id) as session:
        pending = await session.scalar(
            text("SELECT count(*) FROM stats_dirty_days WHERE user_id = :u"), {"u": user_id}
        )
        assert pending == 0
        stored_days = _normal(await repo.list_stored_day_rows(session, user_id))
        assert stored_days == _normal(await repo.compute_day_rows(session, user_id))
        stored_subjects = _normal(await repo.list_stored_subject_rows(session, user_id))
        assert stored_subjects == _normal(await repo.compute_subject_rows(session, user_id))


async def _days(session: AsyncSession, user_id: uuid.UUID) -> dict[str, tuple[int, int, float]]:
    rows = await repo.list_stored_day_rows(session, user_id)
    return {str(r.day): (r.entries, r.mood_n, r.mood_sum) for r in rows}


async def test_drained_statistics_equal_a_full_recompute_after_every_kind_of_write(
    client: httpx.AsyncClient, me: Account, database: Database
) -> None:
    user_id = await user_id_of(client, me)
    auth = me.auth
    # Late evening in Los Angeles is the next day in UTC: the local day is the entry's own.
    late = await create_entry(
        client, auth, "Late swim.", entry_date="2025-03-03T23:30:00-08:00",
        timezone="America/Los_Angeles", mood_rating=7, tags=["swim"],
    )  # fmt: skip
    morning = await create_entry(
        client, auth, "Coffee and a long run along the river today.",
        entry_date="2025-03-03T07:00:00+01:00", timezone="Europe/Berlin", mood_rating=4,
        tags=["run", "coffee"],
    )  # fmt: skip
    other = await create_entry(
        client, auth, "Quiet evening reading a book by the window.",
        entry_date="2025-03-05T21:00:00+01:00", timezone="Europe/Berlin", mood_rating=9,
    )  # fmt: skip
    await assert_drained_equals_recompute(database, user_id)
    async with database.unit_of_work(user_id=user_id) as session:
        days = await _days(session, user_id)
    assert days == {"2025-03-03": (2, 2, 11.0), "2025-03-05": (1, 1, 9.0)}

    steps: list[tuple[str, str, dict[str, Any] | None]] = [
        ("PATCH", f"/api/v1/entries/{late['id']}", {"mood_rating": 2}),
        ("PATCH", f"/api/v1/entries/{late['id']}", {"entry_date": "2025-03-06T10:00:00Z"}),
        ("PATCH", f"/api/v1/entries/{late['id']}", {"timezone": "Pacific/Kiritimati"}),
        ("PATCH", f"/api/v1/entries/{morning['id']}", {"tags": ["run", "tea"]}),
        ("PATCH", f"/api/v1/entries/{other['id']}", {"raw_data": markdown("Two words.")}),
        ("DELETE", f"/api/v1/entries/{morning['id']}", None),
        ("POST", f"/api/v1/entries/{morning['id']}/restore", None),
        ("PATCH", f"/api/v1/entries/{other['id']}", {"mood_rating": None}),
    ]
    for method, url, body in steps:
        response = await client.request(method, url, json=body, headers=auth)
        assert response.status_code < 300, (url, body, response.text)
        await assert_drained_equals_recompute(database, user_id)

    await analyze_entries(database, user_id)  # sentiment, emotions, topics
    await assert_drained_equals_recompute(database, user_id)
    async with database.unit_of_work(user_id=user_id) as session:
        rows = await repo.list_stored_day_rows(session, user_id)
        assert sum(r.sentiment_n for r in rows) == 3
        assert sum(r.emotions_n for r in rows) == 3
        topics = await session.scalar(
            text("SELECT count(*) FROM stats_day_subjects WHERE kind = 'topic'")
        )
        assert topics

    tags = {t["name"]: t["id"] for t in (await client.get("/api/v1/tags", headers=auth)).json()}
    for method, url in (
        ("DELETE", f"/api/v1/tags/{tags['tea']}"),
        ("DELETE", f"/api/v1/entries/{other['id']}"),
        ("DELETE", f"/api/v1/entries/{other['id']}/purge"),
    ):
        response = await client.request(method, url, headers=auth)
        assert response.status_code < 300, (url, response.text)
        await assert_drained_equals_recompute(database, user_id)

    # The nightly rebuild leaves the same rows as the drains did.
    async with database.unit_of_work(user_id=user_id) as session:
        before = _normal(await repo.list_stored_day_rows(session, user_id))
        await statistics.rebuild_statistics(session, user_id)
        assert _normal(await repo.list_stored_day_rows(session, user_id)) == before


async def test_drains_racing_with_writers_lose_no_write(
    fresh_db: DatabaseUrls, tmp_path: Path
) -> None:
    settings = make_settings(fresh_db, tmp_path)
    start = datetime(2025, 5, 1, 12, tzinfo=UTC)
    entries = [
        EntryCreate(raw_data={"text": f"entry {i}"}, entry_date=start + timedelta(days=i % 4),
                    mood_rating=5, tags=[f"t{i % 3}"])
        for i in range(12)
    ]  # fmt: skip
    user_id, ids = await user_with_entries(fresh_db, settings, entries)
    database = Database(
        create_engine(fresh_db.app, settings.db, PoolPlan(6, 2), application_name="t")
    )

    async def write(round_: int) -> None:
        for number, entry_id in enumerate(ids):
            async with database.unit_of_work(user_id=user_id) as session:
                await session.execute(
                    text("UPDATE entries SET mood_rating = :m, entry_date = :d WHERE id = :id"),
                    {"m": 1 + (round_ + number) % 10,
                     "d": start + timedelta(days=(round_ + number) % 6), "id": entry_id},
                )  # fmt: skip

    async def drain() -> None:
        for _ in range(15):
            await tasks.drain_user(database, user_id)

    try:
        await asyncio.gather(*(write(r) for r in range(3)), drain(), drain())
        await assert_drained_equals_recompute(database, user_id)
    finally:
        await database.dispose()
