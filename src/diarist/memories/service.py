"""Related memories and on-this-day."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from diarist.accounts import preferences as preferences_api
from diarist.config import AnalysisSettings
from diarist.journal import queries as journal_queries
from diarist.memories import repository as repo
from diarist.models import Entry


async def find_related_entries(
    session: AsyncSession,
    settings: AnalysisSettings,
    user_id: uuid.UUID,
    entry_id: uuid.UUID,
    *,
    limit: int,
    min_similarity: float,
) -> list[tuple[Entry, float]] | None:
    """Nearest entries in meaning under the user's effective embedding model; None while the
    entry is not analysed yet."""
    await journal_queries.get_entry(session, user_id, entry_id, deleted=False)
    model = (await preferences_api.preferences_of(session, user_id)).embedding_model(settings)
    return await repo.find_related_entries(
        session, user_id, entry_id, model, limit=limit, min_similarity=min_similarity
    )


async def on_this_day(
    session: AsyncSession, user_id: uuid.UUID, day: date | None, limit: int
) -> tuple[date, list[Entry]]:
    """Entries of earlier years from `day` (default: today in the user's time zone)."""
    day = day or (await preferences_api.preferences_of(session, user_id)).today()
    return day, await repo.list_entries_on_this_day(session, user_id, day, limit)
