"""Every query of memories, under the acting user's RLS context."""

from __future__ import annotations

import calendar
import uuid
from datetime import date

from sqlalchemy import Date, and_, cast, extract, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.models import Entry, EntryEmbedding


async def find_related_entries(
    session: AsyncSession,
    user_id: uuid.UUID,
    entry_id: uuid.UUID,
    model: str,
    *,
    limit: int,
    min_similarity: float,
) -> list[tuple[Entry, float]] | None:
    """The user's entries nearest in meaning to `entry_id` (itself excluded), by exact k-NN over
    their own vectors of `model` (the user_id index, then distance: exact and fast for one
    person's journal). None when the entry has no vector of that model yet."""
    target = await session.scalar(
        select(EntryEmbedding.embedding).where(
            EntryEmbedding.entry_id == entry_id, EntryEmbedding.model == model
        )
    )
    if target is None:
        return None
    distance = EntryEmbedding.embedding.cosine_distance(target)
    rows = await session.execute(
        select(Entry, (1 - distance).label("similarity"))
        .join(EntryEmbedding, EntryEmbedding.entry_id == Entry.id)
        .where(
            EntryEmbedding.user_id == user_id,
            EntryEmbedding.model == model,
            EntryEmbedding.entry_id != entry_id,
            Entry.deleted_at.is_(None),
            (1 - distance) >= min_similarity,
        )
        .order_by(distance)
        .limit(limit)
    )
    return [(row[0], float(row[1])) for row in rows]


async def list_entries_on_this_day(
    session: AsyncSession, user_id: uuid.UUID, day: date, limit: int
) -> list[Entry]:
    """Entries of earlier years written on the same calendar day (in each entry's own time
    zone); on 28 February of a common year, 29 February counts too."""
    local = func.timezone(Entry.timezone, Entry.entry_date)
    same_day = and_(extract("month", local) == day.month, extract("day", local) == day.day)
    if day.month == 2 and day.day == 28 and not calendar.isleap(day.year):
        same_day = or_(same_day, and_(extract("month", local) == 2, extract("day", local) == 29))
    rows = await session.scalars(
        select(Entry)
        .where(
            Entry.user_id == user_id,
            Entry.deleted_at.is_(None),
            same_day,
            cast(local, Date) < day,
        )
        .order_by(Entry.entry_date.desc())
        .limit(limit)
    )
    return list(rows.all())
