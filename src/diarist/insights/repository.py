"""Every query of insights, under the acting user's RLS context (cross-user listings are for
the system role): related memories and on-this-day here, statistics and stored insights in
`_statistics_sql` (re-exported)."""

from __future__ import annotations

import calendar
import uuid
from datetime import date

from sqlalchemy import Date, and_, cast, extract, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from diarist.insights._statistics_sql import (
    claim_dirty_days,
    clear_dirty_days,
    compute_day_rows,
    compute_subject_rows,
    count_entries_by_hour,
    count_entries_by_weekday,
    count_subject_usage_by_month,
    deactivate_insights_except,
    get_insight,
    list_active_days,
    list_active_user_ids,
    list_insights,
    list_stored_day_rows,
    list_stored_subject_rows,
    list_users_with_dirty_days,
    lock_queued_job,
    lock_user_statistics,
    recompute_days,
    sum_day_means,
    sum_day_means_by_weekday,
    sum_emotions,
    sum_moments,
    sum_moments_by_period,
    sum_subject_moments,
    upsert_insight,
)
from diarist.models import Entry, EntryEmbedding

__all__ = [
    "claim_dirty_days",
    "clear_dirty_days",
    "compute_day_rows",
    "compute_subject_rows",
    "count_entries_by_hour",
    "count_entries_by_weekday",
    "count_subject_usage_by_month",
    "deactivate_insights_except",
    "find_related_entries",
    "get_insight",
    "list_active_days",
    "list_active_user_ids",
    "list_entries_on_this_day",
    "list_insights",
    "list_stored_day_rows",
    "list_stored_subject_rows",
    "list_users_with_dirty_days",
    "lock_queued_job",
    "lock_user_statistics",
    "recompute_days",
    "sum_day_means",
    "sum_day_means_by_weekday",
    "sum_emotions",
    "sum_moments",
    "sum_moments_by_period",
    "sum_subject_moments",
    "upsert_insight",
]


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
