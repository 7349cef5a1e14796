"""Statistics refreshes are queued in the transaction that saves analysis results (remote
providers included) and coalesced: a bulk of saves leaves one job waiting per user."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import text

from diarist.analysis.results import TaskResult
from diarist.analysis.service._pipeline import _save_results  # white-box: the save step
from diarist.config import Settings
from diarist.db.engine import Database
from diarist.db.jobs import defer_once
from diarist.insights import jobs, statistics
from tests.factories.accounts import Account, signed_up, user_id_of
from tests.factories.journal import create_entry


@pytest.fixture
async def me(client: httpx.AsyncClient) -> Account:
    return await signed_up(client)


async def test_refreshes_are_coalesced_and_queued_when_remote_results_are_saved(
    client: httpx.AsyncClient, me: Account, database: Database, settings: Settings
) -> None:
    user_id = await user_id_of(client, me)
    entry = await create_entry(client, me.auth, "Reflected upon.")
    lock = f"{statistics.REFRESH_LOCK}:{user_id}"

    async def queued() -> int:
        async with database.unit_of_work() as session:
            found = await session.scalar(
                text("SELECT count(*) FROM procrastinate_jobs WHERE queueing_lock = :l "
                     "AND status = 'todo'"), {"l": lock},
            )  # fmt: skip
            return int(found or 0)

    async with database.unit_of_work(user_id=user_id) as session:
        content_hash = await session.scalar(
            text("SELECT content_hash FROM entries WHERE id = :id"), {"id": entry["id"]}
        )
    reflection = TaskResult("reflection", {"text": "fine"}, None, {"provider": "openai"})
    assert await _save_results(
        database, settings.analysis, user_id, uuid.UUID(entry["id"]), content_hash,
        [reflection], force=True,
    )  # fmt: skip
    assert await queued() == 1
    # Many more saves (a bulk import): still one job waiting, and no transaction failed.
    for _ in range(3):
        async with database.unit_of_work(user_id=user_id) as session:
            await statistics.request_refresh(session, user_id)
    async with database.unit_of_work(user_id=user_id) as session:
        again = await defer_once(session, jobs.REFRESH_STATISTICS, lock=lock, user_id=str(user_id))
        assert again is False
        assert await session.scalar(text("SELECT 1")) == 1  # the transaction is usable
    assert await queued() == 1
