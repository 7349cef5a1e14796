"""Statistics and stored insights made by the real maintenance code."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import text

from diarist.accounts import repository as accounts_repo
from diarist.config import JournalSettings
from diarist.db.engine import Database
from diarist.insights import repository as insights_repo
from diarist.insights import tasks
from diarist.journal import service as entries_service
from diarist.journal.schemas import EntryCreate


async def fill_statistics(database: Database, user_id: uuid.UUID) -> None:
    """Rows in every insights table: drained statistics, a stored insight, a pending mark."""
    await tasks.drain_user(database, user_id)
    async with database.unit_of_work(user_id=user_id) as session:
        await insights_repo.upsert_insight(
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


@dataclass(frozen=True)
class Planted:
    """What a planted journal holds, for the expectations of a test."""

    today: date
    # (local day, local hour, mood, tags) per entry
    entries: list[tuple[date, int, int, tuple[str, ...]]]
    current_streak: int
    longest_streak: int


ZONE = "Europe/Berlin"
# A fixed "today" for planted journals: which days are Mondays, and so every draw of the
# journal, is the same on every run.
TODAY = date(2026, 3, 18)


async def planted_journal(
    database: Database, user_id: uuid.UUID, seed: int = 7, today: date = TODAY
) -> Planted:
    """About 135 entries over the 125 days before `today` (Berlin evenings, some mornings):
    mood about 6, three points lower on Mondays, two higher with the tag `running`; the tag
    `reading` is put on as often at random and does nothing. Two gaps make the streaks 49
    (longest) and 39 (current, up to yesterday)."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    planned: list[tuple[date, int, int, tuple[str, ...]]] = []
    for back in range(125, 0, -1):
        if back in (40, 90):
            continue
        day = today - timedelta(days=back)
        monday = -3 if day.isoweekday() == 1 else 0
        tags = tuple(
            name for name, share in (("running", 0.3), ("reading", 0.3)) if rng.random() < share
        )
        mood = 6 + monday + (2 if "running" in tags else 0) + round(rng.gauss(0, 1))
        planned.append((day, 20, max(1, min(10, mood)), tags))
        if back % 10 == 0:
            planned.append((day, 7, max(1, min(10, 6 + monday + round(rng.gauss(0, 1)))), ()))
    limits = JournalSettings()
    async with database.unit_of_work(user_id=user_id) as session:
        for number, (day, hour, mood, tags) in enumerate(planned):
            words = " ".join(["word"] * (5 + number % 7))
            await entries_service.create_entry(
                session,
                user_id,
                EntryCreate(
                    raw_data={"format": "markdown", "text": f"Day {number}: {words}."},
                    entry_date=datetime.combine(day, time(hour, 0), ZoneInfo(ZONE)),
                    timezone=ZONE,
                    mood_rating=mood,
                    tags=list(tags),
                ),
                limits,
            )
        user = await accounts_repo.get_user(session, user_id)
        assert user is not None
        user.preferences = {**user.preferences, "timezone": ZONE}
    return Planted(today=today, entries=planned, current_streak=39, longest_streak=49)
