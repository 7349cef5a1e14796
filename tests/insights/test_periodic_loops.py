"""The periodic loops over all users: one user whose drain or generation fails is logged (by
id and error type, never diary text) and the others are still served."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import httpx
import pytest

from diarist.db.engine import Database
from diarist.insights import repository as repo
from diarist.insights import statistics, tasks
from tests.factories.accounts import signed_up, user_id_of
from tests.factories.journal import create_entry


async def test_one_failing_user_does_not_stop_the_others(
    client: httpx.AsyncClient,
    database: Database,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    first, second = await signed_up(client), await signed_up(client)
    users = [await user_id_of(client, first), await user_id_of(client, second)]
    for account in (first, second):
        await create_entry(client, account.auth, "Secret words.", mood_rating=4)
    real_drain = statistics.drain_dirty_days

    async def drain(session: Any, user_id: uuid.UUID) -> int:
        if user_id == users[0]:
            raise OverflowError("date value out of range")
        return await real_drain(session, user_id)

    async def listed(_session: Any) -> list[uuid.UUID]:
        return users

    monkeypatch.setattr(statistics, "drain_dirty_days", drain)
    monkeypatch.setattr(statistics, "list_users_with_dirty_days", listed)
    monkeypatch.setattr(statistics, "list_active_user_ids", listed)
    # Through the standard logging the app configures (structlog's own capture would miss
    # loggers cached by earlier tests).
    with caplog.at_level(logging.ERROR, logger="diarist.insights.tasks"):
        assert await tasks.drain_all(database, database) == 1
        assert await tasks.generate_all(database, database) == 0
    failed = [r.msg for r in caplog.records if r.name == "diarist.insights.tasks"]
    assert all(isinstance(f, dict) for f in failed)
    assert [(f["event"], f["user_id"], f["error"]) for f in failed] == [  # type: ignore[index]
        ("statistics_drain_failed", str(users[0]), "OverflowError"),
        ("insights_generation_failed", str(users[0]), "OverflowError"),
    ]
    assert "Secret" not in caplog.text
    async with database.unit_of_work(user_id=users[1]) as session:
        assert len(await repo.list_stored_day_rows(session, users[1])) == 1
