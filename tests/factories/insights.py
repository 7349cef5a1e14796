"""Statistics and stored insights made by the real maintenance code."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from sqlalchemy import text

from diarist.db.engine import Database
from diarist.insights import stats_repository, tasks


async def fill_statistics(database: Database, user_id: uuid.UUID) -> None:
    """Rows in every insights table: drained statistics, a stored insight, a pending mark."""
    await tasks.drain_user(database, user_id)
    async with database.unit_of_work(user_id=user_id) as session:
        await stats_repository.upsert_insight(
            session,
            user_id,
            insight_type="streak_milestone",
            fingerprint="streak_milestone:7",
            data={"milestone": 7},
            confidence=1.0,
            now=datetime.now(UTC),
        )
        await session.execute(
            text("INSERT INTO stats_dirty_days (user_id, day) VALUES (:user_id, :day)"),
            {"user_id": user_id, "day": date(2024, 1, 1)},
        )
